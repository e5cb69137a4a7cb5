"""Sample sets named by one string: files, run directories and data-source specs."""

import numpy as np
import pytest
import torch

from gankit.data.base import DataError
from gankit.data.samples import read_samples, resolve_samples, source_from_spec
from gankit.data.toy import GaussianMixture


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".pt", ".csv", ".txt"])
def test_every_file_type_round_trips(tmp_path, suffix):
    array = np.arange(12, dtype=np.float32).reshape(6, 2) / 7
    path = tmp_path / f"x{suffix}"
    if suffix == ".npy":
        np.save(path, array)
    elif suffix == ".npz":
        np.savez(path, samples=array, other=np.zeros(3))
    elif suffix == ".pt":
        torch.save(torch.from_numpy(array), path)
    else:
        np.savetxt(path, array, delimiter="," if suffix == ".csv" else " ")
    loaded = read_samples(path)
    np.testing.assert_allclose(loaded.numpy(), array, rtol=1e-6)


def test_data_source_specs_are_validated_and_built():
    source = source_from_spec("gmm1d:weights=[1, 3],means=[-2,2],stds=[0.5,1]")
    assert isinstance(source, GaussianMixture)
    assert source.weights.tolist() == [0.25, 0.75]
    assert source_from_spec("normal1d:mean=2").modes.item() == 2.0
    with pytest.raises(DataError, match="std"):
        source_from_spec("normal1d:std=-1")
    with pytest.raises(DataError, match="unknown data source 'nope'"):
        source_from_spec("nope")
    with pytest.raises(DataError, match="not KEY=VALUE"):
        source_from_spec("normal1d:mean")


def test_bad_files_get_a_clear_error(tmp_path):
    corrupt = tmp_path / "bad.npy"
    corrupt.write_bytes(b"not an array")
    with pytest.raises(DataError, match="bad.npy: cannot read samples"):
        read_samples(corrupt)
    several = tmp_path / "several.npz"
    np.savez(several, a=np.zeros(2), b=np.ones(2))
    with pytest.raises(DataError, match="name it 'samples'"):
        read_samples(several)
    with pytest.raises(DataError, match="no such file"):
        resolve_samples(str(tmp_path / "missing.npy"))
    other = tmp_path / "x.json"
    other.write_text("[1, 2]")
    with pytest.raises(DataError, match="unknown sample file type"):
        read_samples(other)


class Opaque:
    """Not a tensor: torch.save pickles it, and a safe load must refuse it."""

    def __init__(self):
        self.rows = [[1.0, 2.0]]


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        ("strings.npy", lambda path: np.save(path, np.array(["a", "bc"])), "holds strings"),
        ("bytes.npz", lambda path: np.savez(path, samples=np.array([b"x"])), "byte strings"),
        ("complex.npy", lambda path: np.save(path, np.ones(3, complex)), "complex numbers"),
        (
            "objects.npy",
            lambda path: np.save(path, np.array([{}, 1], dtype=object), allow_pickle=True),
            "cannot read samples",
        ),
        ("pickled.pt", lambda path: torch.save(Opaque(), path), "cannot read samples"),
        ("mapping.pt", lambda path: torch.save({"x": torch.ones(2)}, path), "holds a dict"),
        (
            "complex.pt",
            lambda path: torch.save(torch.ones(2, dtype=torch.cfloat), path),
            "not real",
        ),
        ("garbage.pt", lambda path: path.write_bytes(b"not a torch file"), "cannot read samples"),
    ],
)
def test_files_that_are_not_plain_arrays_of_numbers_are_refused_in_one_line(
    tmp_path, name, write, message
):
    path = tmp_path / name
    write(path)
    with pytest.raises(DataError, match=message) as caught:
        read_samples(path)
    assert "\n" not in str(caught.value)


def test_a_file_larger_than_the_available_memory_is_refused_before_loading(tmp_path, monkeypatch):
    path = tmp_path / "big.npy"
    np.save(path, np.zeros((1000, 2), np.float32))
    monkeypatch.setattr("gankit.data.samples.system_available_bytes", lambda: 1000)
    with pytest.raises(DataError, match=r"big.npy: 0.0 GiB do not fit in the 0.0 GiB"):
        read_samples(path)


def test_a_run_directory_is_a_lazy_source_of_its_generator_samples(tmp_path):
    import gankit
    from gankit.data.samples import RunSamples

    overrides = {
        "train.steps": 2,
        "generator.width": 8,
        "discriminator.width": 8,
        "train.batch_size": 16,
        "samples.count": 16,
        "log.tensorboard": False,
    }
    gankit.train("ring-2d", overrides, run_dir=tmp_path / "run", progress=False)
    source = resolve_samples(str(tmp_path / "run"), seed=5)
    assert isinstance(source, RunSamples) and source.shape == (2,)
    drawn = source.sample(300, torch.Generator())
    assert drawn.shape == (300, 2) and drawn.dtype == torch.float32
    expected = torch.cat(list(source.run.sample_batches(300, 5)))
    assert torch.equal(drawn, expected)
