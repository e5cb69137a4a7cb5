"""PacGAN packing in the MLP discriminator (Lin et al., 2018): m samples, one logit."""

import math

import pytest
import torch
from pydantic import ValidationError

import gankit
from gankit.config import ConfigError, resolve
from gankit.nets import MLPDiscriminator, MLPDiscriminatorOptions, NetError, build_discriminator
from gankit.objectives.penalties import (
    consistency_term,
    feature_matching_loss,
    gradient_norm_penalty,
    gradient_penalty,
)
from tests.train.tiny import TINY_RING


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("pack", [1, 2, 4])
@pytest.mark.parametrize("shape", [(2,), (1, 4, 4)])
def test_one_logit_and_one_feature_row_per_pack(pack, shape):
    d = MLPDiscriminator(shape, width=16, pack=pack)
    x = torch.randn(8, *shape)
    assert d(x).shape == (8 // pack,)
    assert d.features(x).shape == (8 // pack, 16)
    assert d.body[1].in_features == pack * math.prod(shape)


def test_packed_equals_unpacked_on_the_concatenated_rows():
    """Pack k is rows k·m … k·m + m − 1 of the batch, concatenated in order."""
    m, shape = 4, (2,)
    packed = MLPDiscriminator(shape, width=16, depth=2, pack=m)
    plain = MLPDiscriminator((m * 2,), width=16, depth=2)
    plain.load_state_dict(packed.state_dict())
    x = torch.randn(12, *shape)
    rows = torch.stack([torch.cat([x[k * m + i] for i in range(m)]) for k in range(12 // m)])
    assert rows.shape == (3, 8)
    torch.testing.assert_close(packed(x), plain(rows), rtol=0, atol=0)
    torch.testing.assert_close(packed.features(x), plain.features(rows), rtol=0, atol=0)


def test_packed_images_are_flattened_then_concatenated():
    m, shape = 2, (1, 3, 3)
    packed = MLPDiscriminator(shape, width=8, pack=m)
    plain = MLPDiscriminator((m * 9,), width=8)
    plain.load_state_dict(packed.state_dict())
    x = torch.randn(6, *shape)
    torch.testing.assert_close(packed(x), plain(x.reshape(3, 18)), rtol=0, atol=0)


def test_a_batch_that_is_not_a_multiple_of_the_pack_is_refused_with_the_sizes():
    d = MLPDiscriminator((2,), width=8, pack=4)
    with pytest.raises(NetError) as err:
        d(torch.randn(10, 2))
    assert str(err.value) == (
        "discriminator.pack=4 scores packs of 4 samples, but got a batch of 10, which is "
        "not a multiple of 4: make train.batch_size a multiple of 4"
    )


def test_pack_is_a_validated_option_and_builds_from_a_config():
    with pytest.raises(ValidationError):
        MLPDiscriminatorOptions(pack=0)
    with pytest.raises(NetError):
        MLPDiscriminator((2,), pack=0)
    options = resolve("ring-2d", {"discriminator.pack": 2}).discriminator
    assert options.pack == 2
    d = build_discriminator(options, (2,))
    assert d(torch.randn(6, 2)).shape == (3,)
    assert resolve("ring-2d").discriminator.pack == 1


def test_penalties_and_feature_matching_run_through_packs():
    d = MLPDiscriminator((2,), width=16, pack=2, dropout=0.5)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    values = [
        gradient_penalty(d, real, fake),
        gradient_norm_penalty(d, real),
        consistency_term(d, real),
        feature_matching_loss(d.features(real), d.features(fake)),
    ]
    for value in values:
        assert value.shape == () and torch.isfinite(value)
        value.backward()


def test_gradient_penalty_takes_each_samples_share_of_its_packs_gradient():
    """x̂ of B samples forms B/m packs; sample i's gradient is ∂D(its pack)/∂x̂ᵢ, and the
    penalty averages (‖·‖ − 1)² over the B samples."""
    m = 2
    d = MLPDiscriminator((2,), width=8, pack=m)
    real, fake, eps = torch.randn(6, 2), torch.randn(6, 2), torch.rand(6)
    mixed = (eps[:, None] * real + (1 - eps[:, None]) * fake).requires_grad_(True)
    logits = d(mixed)  # (3,)
    per_pack = [torch.autograd.grad(logits[k], mixed, retain_graph=True)[0] for k in range(3)]
    for k, gradient in enumerate(per_pack):  # pack k reaches rows k·m … k·m + m − 1 only
        outside = torch.ones(6, dtype=torch.bool)
        outside[k * m : (k + 1) * m] = False
        assert gradient[outside].abs().sum() == 0
    rows = sum(per_pack)
    expected = (rows.norm(dim=1) - 1).square().mean()
    torch.testing.assert_close(gradient_penalty(d, real, fake, eps=eps), expected)


def test_mixed_packs_score_differently_from_their_parts():
    """A packed D is a function of the whole pack: the order of its members matters."""
    d = MLPDiscriminator((2,), width=16, pack=2)
    x = torch.randn(2, 2)
    assert not torch.equal(d(x), d(x.flip(0)))


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"objective.name": "wasserstein", "regularisers.gradient_penalty.weight": 10},
        {"regularisers.feature_matching.weight": 1},
        {"discriminator.minibatch_discrimination.kernels": 4},
    ],
)
def test_a_packed_discriminator_trains_through_gankit_train(tmp_path, overrides):
    settings = {**TINY_RING, "train.steps": 10, "discriminator.pack": 4, **overrides}
    run = gankit.train("ring-2d", settings, run_dir=tmp_path / "run", progress=False)
    assert run.status == "completed" and run.step == 10
    assert run.discriminator.pack == 4
    records = run.metrics()
    assert len(records) == 2 and all(math.isfinite(r["d_loss"]) for r in records)
    assert run.sample(16).shape == (16, 2)
    again = gankit.load(run.path)
    assert again.discriminator.pack == 4


def test_a_batch_that_does_not_fill_the_packs_is_refused_before_any_file_is_written(tmp_path):
    settings = {**TINY_RING, "train.steps": 2, "train.batch_size": 30, "discriminator.pack": 4}
    with pytest.raises(ConfigError, match="train.batch_size=30 is not a multiple of"):
        gankit.train("ring-2d", settings, run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
