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
        resolve_samples(str(tmp_path / "missing.npy"), 10)
    other = tmp_path / "x.json"
    other.write_text("[1, 2]")
    with pytest.raises(DataError, match="unknown sample file type"):
        read_samples(other)
