"""``train.precision`` and ``train.compile``: bf16 and fp16 training on the CPU, the fp16
scalers checkpointed for a bit-exact resume, scaled input-gradient penalties, refusals."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import gankit
from gankit.config import resolve
from gankit.errors import ConfigError
from gankit.objectives.penalties import gradient_norm_penalty, gradient_penalty
from gankit.train.checkpoint import list_checkpoints, load_checkpoint
from gankit.train.precision import Precision
from tests.train.tiny import TINY_RING

DIGITS = {
    "generator.width": 8,
    "discriminator.width": 8,
    "train.batch_size": 16,
    "samples.count": 4,
    "samples.every": 0,
    "log.every": 5,
    "log.tensorboard": False,
    "device": "cpu",
}
TINY = {"ring-2d": TINY_RING, "dcgan-digits8x8": DIGITS}


def _last_checkpoint(run):
    return load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])


def _without_timing(records):
    return [{k: v for k, v in r.items() if k != "steps_per_s"} for r in records]


def _all_finite(records):
    return all(math.isfinite(v) for r in records for v in r.values() if isinstance(v, float))


@pytest.mark.parametrize("preset", ["ring-2d", "dcgan-digits8x8"])
def test_bf16_trains_with_finite_losses(tmp_path, preset):
    run = gankit.train(
        preset,
        {**TINY[preset], "train.steps": 10, "train.precision": "bf16"},
        run_dir=tmp_path / "r",
        progress=False,
    )
    records = run.metrics()
    assert run.status == "completed" and len(records) == 2
    assert _all_finite(records)
    assert "scalers" not in _last_checkpoint(run).state  # bf16 needs no gradient scaling


FP16_R1 = {
    **TINY_RING,
    "train.steps": 30,
    "checkpoint.every": 10,
    "train.precision": "fp16",
    "regularisers.r1.gamma": 0.1,  # an input-gradient penalty taken at the loss scale
}


def test_fp16_checkpoints_its_scalers_and_resumes_bit_for_bit(tmp_path):
    straight = gankit.train("ring-2d", FP16_R1, run_dir=tmp_path / "straight", progress=False)
    first = gankit.train(
        "ring-2d", FP16_R1, run_dir=tmp_path / "split", progress=False, until_step=13
    )
    assert first.status == "paused" and first.step == 13
    resumed = gankit.resume(first.path, progress=False)
    assert resumed.status == "completed" and resumed.step == 30

    a, b = _last_checkpoint(straight), _last_checkpoint(resumed)
    assert a.models.keys() == b.models.keys() and a.training.keys() == b.training.keys()
    for key in a.models:
        assert torch.equal(a.models[key], b.models[key]), key
    for key in a.training:
        assert torch.equal(a.training[key], b.training[key]), key
    assert set(a.state["scalers"]) == {"generator", "discriminator"}
    assert a.state["scalers"] == b.state["scalers"]
    records = straight.metrics()
    # the first D update's scaled input gradient overflows float16 at the initial scale
    # 2¹⁶: skipped, counted, and its non-finite statistics logged as 0
    assert records[0]["amp/skipped_updates"] > 0
    assert a.state["scalers"]["discriminator"]["scale"] < 2.0**16
    assert _all_finite(records)
    assert _without_timing(records) == _without_timing(resumed.metrics())


def test_a_checkpoint_without_scalers_resumes_in_fp16(tmp_path):
    overrides = {**TINY_RING, "train.steps": 10}
    first = gankit.train("ring-2d", overrides, run_dir=tmp_path / "r", until_step=5, progress=False)
    assert "scalers" not in _last_checkpoint(first).state
    resumed = gankit.resume(
        first.path, {"train.precision": "fp16"}, allow_config_change=True, progress=False
    )
    assert resumed.status == "completed"
    assert set(_last_checkpoint(resumed).state["scalers"]) == {"generator", "discriminator"}


def _linear_critic(w: list[float]) -> nn.Module:
    """D(x) = w·x + 0.5, whose input gradient ∇_x D = w is the same for every x."""
    linear = nn.Linear(len(w), 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([w]))
        linear.bias.fill_(0.5)
    return nn.Sequential(linear, nn.Flatten(0))


@pytest.mark.parametrize("scale", [1.0, 2.0**10, 2.0**16])
def test_a_scaled_penalty_equals_the_unscaled_one(scale):
    w = [0.3, -1.2, 2.0]
    D = _linear_critic(w)
    real, fake, eps = torch.randn(8, 3), torch.randn(8, 3), torch.rand(8)
    norm_sq = sum(v * v for v in w)
    r1 = gradient_norm_penalty(D, real, scale)
    gp = gradient_penalty(D, real, fake, eps=eps, scale=scale)
    assert torch.equal(r1, gradient_norm_penalty(D, real))  # a power of 2: exact
    assert torch.equal(gp, gradient_penalty(D, real, fake, eps=eps))
    assert r1.item() == pytest.approx(norm_sq / 2, rel=1e-6)  # ½‖w‖²
    assert gp.item() == pytest.approx((math.sqrt(norm_sq) - 1) ** 2, rel=1e-6)  # (‖w‖ − 1)²


def test_a_penalty_under_fp16_autocast_is_taken_at_the_scale_and_unscaled():
    w = [0.3, -1.2, 2.0]
    D = _linear_critic(w)
    with torch.autocast("cpu", dtype=torch.float16):
        r1 = gradient_norm_penalty(D, torch.randn(8, 3), scale=2.0**10)
    assert r1.dtype == torch.float32
    assert r1.item() == pytest.approx(sum(v * v for v in w) / 2, rel=1e-3)  # float16 weights


@pytest.mark.parametrize(
    ("regulariser", "key"),
    [
        ({"regularisers.gradient_penalty.weight": 10.0}, "regularisers.gradient_penalty"),
        ({"regularisers.r1.gamma": 1.0}, "regularisers.r1"),
        ({"regularisers.r2.gamma": 1.0}, "regularisers.r2"),
    ],
)
def test_compile_with_a_double_backward_penalty_is_refused_in_one_line(regulariser, key):
    with pytest.raises(ConfigError) as refused:
        resolve("ring-2d", {"train.compile": True, **regulariser})
    message = str(refused.value)
    assert f"train.compile=true cannot train {key} " in message
    assert message.endswith("set train.compile=false") and "\n" not in message


def test_a_precision_the_device_cannot_compute_in_is_refused():
    with pytest.raises(
        ConfigError,
        match=r"^train.precision=bf16: .* no autocast on meta: set train.precision=fp32$",
    ):
        Precision("bf16", torch.device("meta"), ("generator", "discriminator"))


@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compile_keeps_the_checkpoint_keys_and_trains(tmp_path):
    overrides = {**TINY_RING, "train.steps": 5}
    plain = gankit.train("ring-2d", overrides, run_dir=tmp_path / "plain", progress=False)
    compiled = gankit.train(
        "ring-2d", {**overrides, "train.compile": True}, run_dir=tmp_path / "c", progress=False
    )
    a, b = _last_checkpoint(plain), _last_checkpoint(compiled)
    assert a.models.keys() == b.models.keys() and a.training.keys() == b.training.keys()
    assert compiled.status == "completed" and _all_finite(compiled.metrics())
