"""The residual nets in a run: a conditional GAN with conditional BatchNorm, self-attention,
a projection discriminator and G's ramped-up EMA trains, resumes bit for bit, calls G and D
through forward only, and ``gankit train --dry-run`` counts its parameters."""

import torch

import gankit
from gankit.cli import main
from gankit.config import resolve
from gankit.data import build_source
from gankit.nets import count_parameters
from gankit.nets.layers import ConditionalBatchNorm2d
from gankit.tasks import build_task
from gankit.train.checkpoint import list_checkpoints, load_checkpoint
from gankit.train.rundir import RunDir
from gankit.train.trainer import Trainer
from tests.tasks.test_forward_only import Counting, first_layer

PRESET = "cgan-projection-mnist"  # 28×28 digits with labels, hinge loss
RESIDUAL = {
    "task.auxiliary_weight": 0.5,  # AC-GAN's classifier on the residual D's features too
    "generator": {"name": "residual", "width": 4, "attention": 14},
    "discriminator": {"name": "residual", "width": 4, "attention": 7},
    "train.batch_size": 8,
    "train.steps": 4,
    "train.ema.half_life_images": 100,
    "train.ema.rampup": 0.5,
    "samples.count": 10,
    "samples.every": 0,
    "checkpoint.every": 2,
    "log.every": 1,
    "log.tensorboard": False,
    "device": "cpu",
}


def _last(run):
    return load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])


def test_a_conditional_residual_run_trains_and_resumes_bit_for_bit(tmp_path):
    straight = gankit.train(PRESET, RESIDUAL, run_dir=tmp_path / "a", progress=False)
    first = gankit.train(PRESET, RESIDUAL, run_dir=tmp_path / "b", progress=False, until_step=2)
    resumed = gankit.resume(first.path, progress=False)
    assert straight.step == resumed.step == 4
    generator = straight.generator
    assert generator.conditional_norm
    gains = [m.gain.weight for m in generator.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(gains) == 4 and all(g.abs().sum() > 0 for g in gains)  # learned from 0
    a, b = _last(straight), _last(resumed)
    assert a.models.keys() == b.models.keys() and a.training.keys() == b.training.keys()
    assert any(".gamma" in key for key in a.models) and "generator_ema.n_averaged" in a.models
    for key in a.models:
        assert torch.equal(a.models[key], b.models[key]), key
    for key in a.training:
        assert torch.equal(a.training[key], b.training[key]), key
    strip = lambda records: [{k: v for k, v in r.items() if k != "steps_per_s"} for r in records]  # noqa: E731
    assert strip(straight.metrics()) == strip(resumed.metrics())
    loaded = gankit.load(straight.path)  # the EMA samples; contiguous, not channels-last
    torch.testing.assert_close(loaded.sample(10, seed=1), straight.sample(10, seed=1))


def test_the_residual_nets_are_called_through_forward_only(tmp_path):
    config = resolve(PRESET, RESIDUAL)
    task = build_task(config)
    source = build_source(config.data)
    torch.manual_seed(config.seed)
    networks = task.build_networks(task.data_info(source))
    wrapped = {name: Counting(net) for name, net in networks.items()}
    passes = dict.fromkeys(wrapped, 0)
    for name, wrapper in wrapped.items():
        first_layer(wrapper.inner).register_forward_hook(
            lambda module, args, output, name=name: passes.__setitem__(name, passes[name] + 1)
        )
    trainer = Trainer(
        config, RunDir.create(tmp_path, "run"), progress=False, source=source,
        networks=wrapped, task=task,
    )  # fmt: skip
    for _ in range(2):
        trainer.train_step()
        trainer.state.step += 1
    trainer.sample_fixed()  # by the EMA: a copy of the wrapped G, hook included
    calls = {name: wrapper.calls for name, wrapper in wrapped.items()}
    calls["generator"] += trainer.state.ema.module.calls
    assert wrapped["generator"].calls > 0 and trainer.state.ema.module.calls > 0
    assert passes == calls


def test_dry_run_prints_the_residual_parameter_counts(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sets = ["generator.name=residual", "discriminator.name=residual", "generator.width=32",
            "discriminator.width=32", "device=cpu"]  # fmt: skip
    assert main(["train", "--dry-run", *(a for s in sets for a in ("--set", s))]) == 0
    out = capsys.readouterr().out
    config = resolve(None, sets)
    torch.manual_seed(0)
    task = build_task(config)
    networks = task.build_networks(task.data_info(build_source(config.data)))
    for name in ("generator", "discriminator"):
        assert f"# {name} parameters: {count_parameters(networks[name]):,}\n" in out
    assert "# generator parameters: 366,689" in out  # z 100 → 64×7×7 → 32×14×14 → 32×28×28
    assert not (tmp_path / "runs").exists()
