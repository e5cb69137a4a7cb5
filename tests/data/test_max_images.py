"""``data.max_images``: a fixed subset of an image source, for experiments on small data."""

import struct

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import ConfigError, resolve
from gankit.data import Digits8x8Options, FolderOptions, IdxOptions, build_source
from gankit.data.images import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, subset_index


def test_subset_index_is_pinned_sorted_and_nested():
    # pinned: runs trained on a subset depend on which images it holds
    assert subset_index(10, 3).tolist() == [1, 7, 8]
    assert subset_index(10, 5).tolist() == [1, 2, 6, 7, 8]
    assert subset_index(1437, 64)[:8].tolist() == [18, 68, 71, 101, 151, 185, 197, 216]
    small, large = subset_index(1437, 64), subset_index(1437, 256)
    assert len(small) == 64 and len(large) == 256 and len(set(small.tolist())) == 64
    assert set(small.tolist()) <= set(large.tolist())
    assert subset_index(10, None).tolist() == subset_index(10, 10).tolist() == list(range(10))
    assert subset_index(10, 99).tolist() == list(range(10))


def test_digits_keep_the_subset_of_their_training_split():
    whole = build_source(Digits8x8Options(split="train"))
    subset = build_source(Digits8x8Options(split="train", max_images=64))
    chosen = subset_index(len(whole), 64)
    assert len(subset) == 64
    assert torch.equal(subset.images, whole.images[chosen])
    assert torch.equal(subset.labels, whole.labels[chosen])
    assert subset.class_names == whole.class_names
    assert sorted(subset.labels.bincount().tolist()) == [5, 6, 6, 6, 6, 6, 7, 7, 7, 8]


def test_the_heldout_split_is_never_cut():
    with pytest.raises(ConfigError, match="held-out split .* is kept whole") as error:
        resolve("dcgan-digits8x8", {"data.split": "heldout", "data.max_images": 10})
    assert "\n" not in str(error.value)
    options = Digits8x8Options(split="train", max_images=10).model_copy(update={"split": "heldout"})
    assert len(build_source(options)) == 360  # what the evaluation's reference reads


def test_a_folder_loads_only_its_subset_and_keeps_every_class(tmp_path):
    greys = [0, 40, 80, 120, 160, 200]
    for i, grey in enumerate(greys):
        label = "a" if i < 3 else "b"
        (tmp_path / label).mkdir(exist_ok=True)
        Image.new("L", (8, 8), grey).save(tmp_path / label / f"{i}.png")
    source = build_source(FolderOptions(path=str(tmp_path), greyscale=True, max_images=4))
    assert subset_index(6, 4).tolist() == [0, 1, 2, 5]  # of the files in sorted order
    assert source.images[:, 0, 0, 0].tolist() == [0, 40, 80, 200]
    assert source.labels.tolist() == [0, 0, 0, 1]
    assert source.class_names == ["a", "b"]


def test_idx_files_keep_the_subset_with_their_labels(tmp_path):
    images = np.arange(6 * 4 * 4, dtype=np.uint8).reshape(6, 4, 4)
    labels = np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8)
    (tmp_path / "x.idx").write_bytes(
        struct.pack(">IIII", IDX_IMAGES_MAGIC, 6, 4, 4) + images.tobytes()
    )
    (tmp_path / "y.idx").write_bytes(struct.pack(">II", IDX_LABELS_MAGIC, 6) + labels.tobytes())
    options = IdxOptions(
        images=str(tmp_path / "x.idx"), labels=str(tmp_path / "y.idx"), max_images=4
    )
    source = build_source(options)
    kept = subset_index(6, 4)
    assert torch.equal(source.images[:, 0], torch.from_numpy(images)[kept])
    assert source.labels.tolist() == labels[kept.numpy()].tolist()
