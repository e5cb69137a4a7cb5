"""`gankit estimate` refuses what it cannot do in one line with exit status 2, before work."""

import json

import numpy as np
import pytest
import torch

from gankit.cli import main


def run(capsys, *args):
    try:
        code = main(["estimate", *map(str, args), "--no-progress"])
    except SystemExit as exit:  # argparse's own refusals
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *args):
    code, out, err = run(capsys, *args)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--samples", "0"], "--samples must be at least 4, got 0"),
        (["--samples", "-5"], "--samples must be at least 4, got -5"),
        (["--steps", "0"], "--steps must be at least 1, got 0"),
        (["--steps", "-1"], "--steps must be at least 1"),
        (["--holdout", "0"], "--holdout must lie strictly between 0 and 1"),
        (["--holdout", "1"], "--holdout must lie strictly between 0 and 1"),
        (["--holdout", "-0.5"], "--holdout must lie strictly between 0 and 1"),
        (["--holdout", "nan"], "--holdout must lie strictly between 0 and 1"),
        (["-d", "jsd"], "--divergence 'jsd' is not one of: js, kl"),
        (["--method", "exact"], "--method 'exact' is not one of: auto, critic, knn"),
        (["--critics", "0"], "--critics must be at least 1"),
        (["--seed", "-1"], "seed"),
        (["--seed", str(2**64)], "seed"),
    ],
)
def test_arguments_out_of_range_are_refused_in_one_line(capsys, args, message):
    err = refused(capsys, "normal1d", "normal1d:mean=1", *args)
    assert message in err


def test_a_request_that_cannot_fit_in_memory_is_refused_before_drawing(capsys):
    err = refused(capsys, "normal1d", "normal1d:mean=1", "-d", "kl", "--samples", 250_000_000)
    assert "--samples 250000000: the estimate needs about" in err and "GiB available" in err


class Opaque:
    pass


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        ("words.npy", lambda path: np.save(path, np.array(["a", "b", "c"])), "holds strings"),
        ("object.pt", lambda path: torch.save(Opaque(), path), "not a plain tensor"),
        ("params.pt", lambda path: torch.save({"w": torch.ones(3)}, path), "holds a dict"),
    ],
)
def test_files_that_are_not_samples_give_one_error_line(capsys, tmp_path, name, write, message):
    write(tmp_path / name)
    err = refused(capsys, tmp_path / name, "normal1d")
    assert message in err


def test_the_result_names_its_method_and_warnings_and_writes_them(capsys, tmp_path):
    path = tmp_path / "kl.json"
    code, out, _ = run(
        capsys,
        "normal1d",
        "normal1d:mean=1.3,std=0.6",
        "-d",
        "kl",
        "--samples",
        4000,
        "--json",
        path,
    )
    assert code == 0
    assert "5-nearest-neighbour distances" in out and "warning: " in out
    assert "exact value (quadrature): 2.7253" in out
    record = json.loads(path.read_text())
    assert record["method"] == "knn" and record["ci"][1] is None and record["warnings"]
