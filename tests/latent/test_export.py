"""gankit export: the sampler (G's moving average) as ONNX and as a torch.export program,
with a dynamic batch and the label input of conditional runs; loaded back, both match
Run.sample on the same z. Without the optional packages, one line says what to install."""

import importlib.util

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.files import OutputError
from gankit.latent import export as export_module
from gankit.latent.export import ExportError, export_sampler

onnxruntime = pytest.importorskip("onnxruntime")  # the dev extra installs it

TOLERANCE = 1e-5


def _onnx(path, z, label=None):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"z": z.numpy()} | ({} if label is None else {"label": label.numpy()})
    return torch.from_numpy(session.run(None, feeds)[0])


def _pt2(path, z, label=None):
    module = torch.export.load(path).module()
    with torch.no_grad():
        return module(z) if label is None else module(z, label)


def test_the_exported_sampler_is_the_moving_average(digits, tmp_path):
    assert digits.sampler is not digits.generator
    z = digits.latents(7, seed=3)
    with torch.no_grad():
        plain = digits.generator.eval()(z)
    done = export_sampler(digits, tmp_path / "g.pt2")
    got = _pt2(done.path, z)
    torch.testing.assert_close(got, digits.sample(7, seed=3), rtol=0, atol=TOLERANCE)
    assert (got - plain).abs().max() > 1e-3  # G itself draws something else


@pytest.mark.parametrize("suffix, load", [(".onnx", _onnx), (".pt2", _pt2)], ids=["onnx", "pt2"])
def test_unconditional_files_match_run_sample_at_any_batch_size(
    digits, ring, tmp_path, suffix, load
):
    for run in (digits, ring):
        done = export_sampler(run, tmp_path / f"{run.path.name}{suffix}")
        assert done.inputs == ("z",) and done.max_difference is not None
        assert done.max_difference <= TOLERANCE
        for n, seed in ((1, 0), (9, 4)):
            expected = run.sample(n, seed)
            got = load(done.path, run.latents(n, seed))
            assert got.shape == expected.shape
            torch.testing.assert_close(got, expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("suffix, load", [(".onnx", _onnx), (".pt2", _pt2)], ids=["onnx", "pt2"])
@pytest.mark.parametrize("name", ["conditional", "learned"])
def test_conditional_files_take_the_label(request, tmp_path, suffix, load, name):
    run = request.getfixturevalue(name)
    done = export_sampler(run, tmp_path / f"g{suffix}")
    assert done.inputs == ("z", "label")
    labels = torch.tensor([0, 3, 9, 3, 5])
    got = load(done.path, run.latents(5, seed=2), labels)
    torch.testing.assert_close(got, run.sample(5, 2, labels), rtol=0, atol=TOLERANCE)
    other = load(done.path, run.latents(5, seed=2), torch.full((5,), 1))
    assert (other - got).abs().max() > 0  # the label reaches G


def test_onnx_inputs_are_named_with_a_dynamic_batch(conditional, tmp_path):
    done = export_sampler(conditional, tmp_path / "g.onnx", check=False)
    session = onnxruntime.InferenceSession(str(done.path), providers=["CPUExecutionProvider"])
    inputs = {i.name: (i.shape, i.type) for i in session.get_inputs()}
    assert inputs == {"z": (["batch", 100], "tensor(float)"), "label": (["batch"], "tensor(int64)")}
    output = session.get_outputs()[0]
    assert output.name == "samples" and output.shape == ["batch", 1, 8, 8]


def test_missing_onnx_packages_are_named_in_one_line(digits, tmp_path, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        export_module.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnxscript" else real(name, *a),
    )
    with pytest.raises(
        ExportError,
        match=r"ONNX export needs the optional package\(s\) onnxscript, not installed: pip install 'gankit\[export\]'",
    ):
        export_sampler(digits, tmp_path / "g.onnx")
    assert main(["export", str(digits.path), "-o", str(tmp_path / "g.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'gankit[export]'" in err[0]
    assert not (tmp_path / "g.onnx").exists()


def test_cli_export_and_its_refusals(digits, tmp_path, capsys):
    assert main(["export", str(digits.path), "-o", str(tmp_path / "g.pt2")]) == 0
    out = capsys.readouterr().out
    assert "exported G's moving average" in out and "inputs z (batch, 100)" in out
    assert "checked: max |file − Run.sample| = " in out
    assert np.isfinite(_pt2(tmp_path / "g.pt2", digits.latents(2)).numpy()).all()
    assert main(["export", str(digits.path), "-o", str(tmp_path / "g.tflite")]) == 2
    assert "cannot export a generator as '.tflite'; name a .onnx file" in capsys.readouterr().err
    with pytest.raises(OutputError):
        export_sampler(digits, tmp_path / "g")
