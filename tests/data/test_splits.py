import hashlib

import pytest
import torch

from gankit.data import build_source
from gankit.data.images import Digits8x8Options, Mnist5kOptions
from gankit.data.splits import HELDOUT_PER_CLASS, SPLIT_SEED, digit_split, stratified_split
from gankit.metrics.digits import classifier_info, digit_data


def test_stratified_split_is_stratified_disjoint_complete_and_reproducible():
    _, labels = digit_data("digits8x8")
    train, heldout = stratified_split(labels, heldout_per_class=36, seed=0)
    assert len(set(train.tolist()) & set(heldout.tolist())) == 0
    assert sorted(train.tolist() + heldout.tolist()) == list(range(len(labels)))
    assert torch.bincount(labels[heldout], minlength=10).tolist() == [36] * 10
    assert torch.bincount(labels[train]).tolist() == (torch.bincount(labels) - 36).tolist()
    again_train, again_heldout = stratified_split(labels.clone(), heldout_per_class=36, seed=0)
    assert torch.equal(train, again_train) and torch.equal(heldout, again_heldout)
    _, other = stratified_split(labels, heldout_per_class=36, seed=1)
    assert not torch.equal(heldout, other)


def test_stratified_split_is_pinned():
    # The rule uses sha256 keys, not a random number generator: these indices never change.
    labels = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    train, heldout = stratified_split(labels, heldout_per_class=1, seed=0)
    keys = {i: hashlib.sha256(f"0:{i}".encode()).hexdigest() for i in range(8)}
    expected = sorted(min((i for i in range(8) if i % 2 == c), key=keys.get) for c in (0, 1))
    assert heldout.tolist() == expected
    assert train.tolist() == sorted(set(range(8)) - set(expected))


def test_stratified_split_needs_training_images_left_in_every_class():
    labels = torch.tensor([0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="class 0 has 2 images"):
        stratified_split(labels, heldout_per_class=2, seed=0)


@pytest.mark.parametrize("name", ["mnist5k", "digits8x8"])
def test_the_shipped_classifiers_were_held_out_on_the_data_split(name):
    recorded = classifier_info(name)["split"]
    assert recorded["heldout_per_class"] == HELDOUT_PER_CLASS[name]
    assert recorded["seed"] == SPLIT_SEED


@pytest.mark.parametrize(("options", "total"), [(Mnist5kOptions, 5000), (Digits8x8Options, 1797)])
def test_the_train_and_heldout_splits_partition_a_digit_set(options, total):
    name = options().name
    everything = build_source(options())
    train = build_source(options(split="train"))
    heldout = build_source(options(split="heldout"))
    assert len(heldout) == 10 * HELDOUT_PER_CLASS[name]
    assert len(train) + len(heldout) == len(everything) == total
    train_index, heldout_index = digit_split(name, digit_data(name)[1])
    assert torch.equal(train.images, everything.images[train_index])
    assert torch.equal(heldout.images, everything.images[heldout_index])
    assert torch.bincount(heldout.labels).tolist() == [HELDOUT_PER_CLASS[name]] * 10


def test_a_split_is_taken_before_classes_are_kept_and_images_resized():
    heldout = build_source(Mnist5kOptions(split="heldout", classes=[3, 7], size=14))
    assert len(heldout) == 2 * HELDOUT_PER_CLASS["mnist5k"]
    assert heldout.shape == (1, 14, 14)
    assert torch.bincount(heldout.labels).tolist() == [100, 100]
