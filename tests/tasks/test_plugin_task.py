"""A new game is one file: this one registers a denoising GAN — G cleans corrupted ring
points, D tells clean from cleaned — with its own options, random stream and checkpointed
state, then trains, checkpoints and resumes it bit for bit."""

import math
from typing import Literal

import torch
from pydantic import Field

import gankit
from gankit.nets import build_discriminator, build_generator
from gankit.optim import grad_norm
from gankit.tasks import TASKS, Task, TaskOptions
from gankit.train.checkpoint import latest_loadable


class DenoiseOptions(TaskOptions):
    name: Literal["denoise"] = "denoise"
    corruption: float = Field(0.3, gt=0, description="std of the noise added to real points")


class Denoise(Task):
    """G(x + ε) against D(x): a generator that removes Gaussian noise."""

    streams = ("corruption",)

    @classmethod
    def check_config(cls, config):
        if config.generator.name != "mlp":
            raise ValueError("task=denoise takes generator.name=mlp")

    def build_networks(self, data):
        shape = tuple(data["shape"])
        return {
            "generator": build_generator(self.config.generator, math.prod(shape), shape, "none"),
            "discriminator": build_discriminator(self.config.discriminator, shape),
        }

    def setup(self, engine):
        self.seen = torch.zeros((), dtype=torch.int64)  # points cleaned so far

    def corrupt(self, engine, x):
        noise = torch.randn(x.shape, generator=engine.state.rngs["corruption"])
        return x + self.options.corruption * noise

    def step(self, engine):
        state, objective, m = engine.state, engine.objective, self.config.train.batch_size
        G, D = state.networks["generator"], state.networks["discriminator"]
        real = engine.source.sample(m, state.rngs["data"])
        with torch.no_grad():
            cleaned = G(self.corrupt(engine, real))
        d_loss = objective.d_loss(D(real), D(cleaned))
        state.optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        d_grad_norm = grad_norm(D)
        state.optimizers["discriminator"].step()
        g_loss = objective.g_loss(D(G(self.corrupt(engine, real))), None)
        state.optimizers["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        state.optimizers["generator"].step()
        self.seen += m
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "d_grad_norm": d_grad_norm}

    def fixed_noise(self, engine, generator):
        real = engine.source.sample(self.config.samples.count, generator)
        return {"z": real + self.options.corruption * torch.randn(real.shape, generator=generator)}

    def sample_grid(self, engine):
        return engine.sample_from(engine.fixed_noise["z"])

    def state_dict(self):
        return {"denoise.seen": self.seen}

    def load_state_dict(self, tensors):
        self.seen = tensors["denoise.seen"].clone()


if "denoise" not in TASKS:
    TASKS.register("denoise", options=DenoiseOptions)(Denoise)

SETTINGS = {"task.name": "denoise", "task.corruption": 0.2, "generator.width": 16}
SETTINGS |= {"discriminator.width": 16, "train.batch_size": 32, "train.steps": 20}
SETTINGS |= {"log.every": 5, "samples.every": 0, "log.tensorboard": False}


def test_a_task_registered_in_a_test_file_trains_checkpoints_and_resumes_bit_for_bit(tmp_path):
    straight = gankit.train("ring-2d", SETTINGS, run_dir=tmp_path / "a", progress=False)
    assert straight.config.task == DenoiseOptions(corruption=0.2)
    half = gankit.train("ring-2d", SETTINGS, run_dir=tmp_path / "b", progress=False, until_step=10)
    assert half.status == "paused"
    resumed = gankit.resume(half.path, progress=False)
    assert resumed.step == straight.step == 20
    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    saved, _ = latest_loadable(resumed.dir.checkpoints_dir)  # the task's own state, resumed
    assert int(saved.training["denoise.seen"]) == 20 * 32
