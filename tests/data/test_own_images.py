"""A user's own image folders as they come: the training size taken from the images (brought
down to a size the convolutional nets build), a warning when images are upscaled, and the
public data sets' layouts (pix2pix's train/val/test, CycleGAN's trainA/trainB/testA/testB)
read by ``data.split``, never mixed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.data import (
    AlignedOptions,
    DataError,
    Digits8x8Options,
    FolderOptions,
    PairedFoldersOptions,
    UnpairedFoldersOptions,
    build_source,
)
from gankit.data.sizes import conv_size_at_most, image_dims, image_sides, training_size
from gankit.nets.dcgan import dcgan_layout
from gankit.nets.registry import NetError
from gankit.nets.resnet_generator import _check_downsamplings
from gankit.nets.unet import _check_depth


def _images(folder: Path, sizes: list[tuple[int, int]], colour=(200, 30, 10)) -> Path:
    """One solid-colour PNG per (width, height), named 0.png, 1.png, …"""
    folder.mkdir(parents=True, exist_ok=True)
    for i, size in enumerate(sizes):
        Image.new("RGB", size, colour).save(folder / f"{i}.png")
    return folder


def _pairs(folder: Path, count: int, half: int, left=(200, 30, 10), right=(10, 60, 250)) -> Path:
    """``count`` A|B images of two solid ``half``×``half`` halves."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pixels = np.zeros((half, 2 * half, 3), dtype=np.uint8)
        pixels[:, :half], pixels[:, half:] = left, right
        Image.fromarray(pixels).save(folder / f"{i}.png")
    return folder


def _builds(size: int) -> bool:
    """Whether the DCGAN/residual layout, the U-Net and the default ResNet generator all
    build images of side ``size`` (asked of the nets themselves)."""
    try:
        dcgan_layout(size)
        _check_depth(size, None)
        _check_downsamplings(size, 2, 9)
    except NetError:
        return False
    return True


# -- the size rule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "size"),
    [(4, 4), (7, 7), (8, 8), (10, 8), (12, 12), (14, 12), (16, 16), (28, 28), (30, 28),
     (32, 32), (100, 96), (255, 224), (256, 256), (600, 512)],
)  # fmt: skip
def test_the_largest_conv_size_at_most_a_side(side, size):
    assert conv_size_at_most(side) == size


def test_conv_sizes_are_exactly_the_largest_sizes_every_net_builds():
    for side in range(8, 520):
        largest = max(s for s in range(8, side + 1) if _builds(s))
        assert conv_size_at_most(side) == largest, side


def test_folder_trains_at_its_images_size_silently(tmp_path, capsys):
    source = build_source(FolderOptions(path=str(_images(tmp_path / "a", [(28, 28)] * 3))))
    assert source.images.shape == (3, 3, 28, 28)
    assert source.images.permute(1, 0, 2, 3).flatten(1).unique(dim=1).T.tolist() == [
        [200, 30, 10]
    ]  # every pixel of every image, unresized
    assert capsys.readouterr().err == ""


def test_an_unbuildable_side_goes_down_to_the_nearest_conv_size_and_says_so(tmp_path, capsys):
    root = _images(tmp_path / "photos", [(100, 100)] * 2)
    source = build_source(FolderOptions(path=str(root)))
    assert source.images.shape == (2, 3, 96, 96)
    assert capsys.readouterr().err == (
        f"note: folder {root}: the images are 100 px; training at 96×96, the largest size "
        "≤ 100 that the convolutional nets build (set data.size to choose another)\n"
    )


def test_the_side_is_the_shorter_one_and_exif_turns_it(tmp_path):
    root = _images(tmp_path / "wide", [(40, 30), (30, 40)])
    assert build_source(FolderOptions(path=str(root))).images.shape == (2, 3, 28, 28)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 20 wide × 10 high, shown turned by 90°
    Image.new("RGB", (20, 10)).save(tmp_path / "turned.jpg", exif=exif)
    assert image_dims(tmp_path / "turned.jpg") == (10, 20)
    assert image_sides([tmp_path / "turned.jpg"], "x", halves=True) == [5]


def test_a_size_most_images_share_is_taken_and_the_rest_are_resized(tmp_path, capsys):
    root = _images(tmp_path / "mixed", [(16, 16)] * 3 + [(8, 8), (32, 32)])
    assert build_source(FolderOptions(path=str(root))).images.shape == (5, 3, 16, 16)
    assert capsys.readouterr().err.splitlines() == [
        f"note: folder {root}: 3 of 5 images are 16 px; training at 16×16",
        f"warning: folder {root}: 1 of 5 images is smaller than 16 px (down to 8 px), "
        "upscaled to 16×16",
    ]


def test_sizes_no_majority_shares_are_refused_asking_for_data_size(tmp_path):
    root = _images(tmp_path / "scraped", [(16, 16)] * 2 + [(20, 20)] * 2 + [(64, 48)])
    message = (
        f"folder {root}: the images differ in size (shorter side 20 px: 2, 16 px: 2, 48 px: 1) "
        "and no size is shared by more than half of them; set data.size (e.g. data.size=20)"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(FolderOptions(path=str(root)))
    assert build_source(FolderOptions(path=str(root), size=16)).images.shape == (5, 3, 16, 16)


def test_upscaling_a_small_pix2pix_set_is_named_in_one_warning(tmp_path, capsys):
    root = _pairs(tmp_path / "tiny_pix2pix", 2, half=32)
    source = build_source(AlignedOptions(path=str(root), size=256))
    assert source.inputs.shape == (2, 3, 256, 256)
    assert capsys.readouterr().err == (
        f"warning: aligned {root}: the A|B halves are 32 px and data.size=256 upscales them 8× "
        "(more memory and time, no more detail); without data.size they train at 32 px\n"
    )
    native = build_source(AlignedOptions(path=str(root)))
    assert native.inputs.shape == native.targets.shape == (2, 3, 32, 32)
    assert native.inputs[0].flatten(1).unique(dim=1).T.tolist() == [[200, 30, 10]]
    assert native.targets[0].flatten(1).unique(dim=1).T.tolist() == [[10, 60, 250]]
    assert capsys.readouterr().err == ""


def test_a_smaller_size_never_warns(tmp_path, capsys):
    training_size([64, 64, 100], 32, "here")
    assert capsys.readouterr().err == ""


def test_unpaired_and_paired_folders_take_one_size_for_both_sides(tmp_path, capsys):
    root = tmp_path / "horse2zebra"
    _images(root / "trainA", [(24, 24)] * 3)
    _images(root / "trainB", [(24, 24)] * 2)
    unpaired = build_source(UnpairedFoldersOptions(path=str(root)))
    assert unpaired.shape == unpaired.shape_a == (3, 24, 24)
    _images(tmp_path / "in", [(40, 40)] * 2)
    _images(tmp_path / "out", [(40, 40)] * 2, colour=(0, 0, 0))
    paired = build_source(
        PairedFoldersOptions(inputs=str(tmp_path / "in"), targets=str(tmp_path / "out"))
    )
    assert paired.inputs.shape == paired.targets.shape == (2, 3, 40, 40)
    assert capsys.readouterr().err == ""


def test_the_digit_sets_keep_their_native_size():
    assert build_source(Digits8x8Options()).shape == (1, 8, 8)


def test_a_run_rebuilds_its_data_at_the_size_it_trained_at(tmp_path):
    options = FolderOptions(path=str(_images(tmp_path / "a", [(20, 20)])))
    assert options.at_shape([3, 16, 16]).size == 16
    assert options.at_shape(None) is options
    assert FolderOptions(path="x", size=32).at_shape([3, 16, 16]).size == 32  # a set size stays


# -- public layouts ---------------------------------------------------------------------


@pytest.fixture
def pix2pix_root(tmp_path: Path) -> Path:
    """facades/: train (3 red|blue pairs), val (2 green|black), test (1 white|black)."""
    root = tmp_path / "facades"
    _pairs(root / "train", 3, 8)
    _pairs(root / "val", 2, 8, left=(0, 255, 0), right=(0, 0, 0))
    _pairs(root / "test", 1, 8, left=(255, 255, 255), right=(0, 0, 0))
    return root


def test_a_pix2pix_root_reads_the_split_it_is_asked_for(pix2pix_root):
    train = build_source(AlignedOptions(path=str(pix2pix_root)))
    assert len(train) == 3 and train.inputs[:, :, 0, 0].tolist() == [[200, 30, 10]] * 3
    val = build_source(AlignedOptions(path=str(pix2pix_root), split="val"))
    assert len(val) == 2 and val.inputs[:, :, 0, 0].tolist() == [[0, 255, 0]] * 2
    test = build_source(AlignedOptions(path=str(pix2pix_root), split="test"))
    assert len(test) == 1 and test.inputs[0, :, 0, 0].tolist() == [255, 255, 255]
    assert build_source(AlignedOptions(path=str(pix2pix_root / "train"))).inputs.shape[0] == 3


def test_a_missing_split_is_refused(pix2pix_root, tmp_path):
    for path in (pix2pix_root / "val").iterdir():
        path.unlink()
    (pix2pix_root / "val").rmdir()
    message = (
        f"aligned: {pix2pix_root} has no val/ sub-folder (it has train, test); choose "
        "data.split from train, test"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(AlignedOptions(path=str(pix2pix_root), split="val"))
    plain = _pairs(tmp_path / "pairs", 2, 8)
    message = (
        f"aligned: data.split=test, but {plain} has no train/, val/ or test/ sub-folders: it "
        "holds the pairs itself (data.split=train)"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(AlignedOptions(path=str(plain), split="test"))


def test_evaluation_reads_the_held_out_split_of_each_layout(pix2pix_root, tmp_path):
    assert AlignedOptions(path=str(pix2pix_root)).heldout_split() == "test"
    (pix2pix_root / "test" / "0.png").unlink()
    (pix2pix_root / "test").rmdir()
    assert AlignedOptions(path=str(pix2pix_root)).heldout_split() == "val"  # maps, cityscapes
    assert AlignedOptions(path=str(pix2pix_root / "train")).heldout_split() is None
    cyclegan = tmp_path / "horse2zebra"
    _images(cyclegan / "trainA", [(8, 8)])
    _images(cyclegan / "trainB", [(8, 8)])
    assert UnpairedFoldersOptions(path=str(cyclegan)).heldout_split() is None
    _images(cyclegan / "testA", [(8, 8)])
    _images(cyclegan / "testB", [(8, 8)])
    assert UnpairedFoldersOptions(path=str(cyclegan)).heldout_split() == "test"
    assert Digits8x8Options().heldout_split() == "heldout"
    assert FolderOptions(path=str(cyclegan)).heldout_split() is None


def test_a_domain_folder_given_for_the_root_names_the_root(tmp_path):
    root = tmp_path / "horse2zebra"
    _images(root / "trainA", [(8, 8)])
    _images(root / "trainB", [(8, 8)])
    message = (
        f"unpaired_folders: {root / 'trainA' / 'trainA'}: no such folder; an unpaired data set "
        f"holds trainA and trainB: give its parent, data.path={root}"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(UnpairedFoldersOptions(path=str(root / "trainA")))


def test_folder_refuses_split_folders_as_classes(tmp_path, pix2pix_root):
    root = tmp_path / "horse2zebra"
    for domain in ("trainA", "trainB", "testA", "testB"):
        _images(root / domain, [(8, 8)])
    message = (
        f"folder: {root} holds trainA, trainB, testA, testB, the layout of an unpaired "
        "(CycleGAN) data set, not classes: use data.name=unpaired_folders, or "
        f"data.path={root / 'trainA'} for one domain"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(FolderOptions(path=str(root)))
    message = (
        f"folder: {pix2pix_root}'s sub-folders train, val, test split a data set, they are "
        f"not classes: set data.path={pix2pix_root / 'train'} (A|B pairs: data.name=aligned)"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        build_source(FolderOptions(path=str(pix2pix_root)))
    domain = build_source(FolderOptions(path=str(root / "trainA")))
    assert domain.labels is None and domain.images[0, :, 0, 0].tolist() == [200, 30, 10]
