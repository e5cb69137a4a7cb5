"""One process of a multi-process test run: ``torchrun … ddp_worker.py JOB`` (or plain
``python ddp_worker.py JOB`` for a world of one), where JOB is a JSON object:

    preset, overrides, run_dir   what to train (``gankit.train``), or
    resume: true                 continue run_dir (``gankit.resume``) with the overrides
    same_samples: true           every rank takes its slice of one global batch of ring
                                 points, noise and gradient-penalty ε per step, drawn
                                 from seeds shared by all ranks, so N processes see what
                                 one process sees at the same global batch
    audit: path                  record what this process writes under run_dir (Python's
                                 audit events) into path.rank<R>.json
    fingerprint: path            the sha256 of each of its weights and buffers at the end,
                                 into path.rank<R>.json

It prints nothing of its own; the test reads the run directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zlib
from pathlib import Path

import torch
import torch.distributed as dist

import gankit
import gankit.tasks.unconditional as unconditional
from gankit.train.trainer import Trainer

WRITE_EVENTS = ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree", "os.truncate")


def rank_and_world() -> tuple[int, int]:
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class SharedDraws:
    """Global draws sliced by rank: call c of stream s draws ``total`` values from a
    generator seeded by (s, c) and keeps this rank's contiguous share."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def take(self, stream: str, local: int, draw) -> torch.Tensor:
        rank, world = rank_and_world()
        call = self.calls.get(stream, 0)
        self.calls[stream] = call + 1
        generator = torch.Generator().manual_seed(zlib.crc32(f"{stream}:{call}".encode()))
        values = draw(local * world, generator)
        return values[rank * local : (rank + 1) * local]


def install_same_samples() -> None:
    """Real points, z and the penalty's ε: slices of draws shared by every rank."""
    draws = SharedDraws()
    original_penalty = unconditional.gradient_penalty

    def penalty_with_shared_eps(D, real, fake, *args, **kwargs):
        kwargs["eps"] = draws.take("eps", len(real), lambda n, g: torch.rand(n, generator=g))
        return original_penalty(D, real, fake, *args, **kwargs)

    unconditional.gradient_penalty = penalty_with_shared_eps
    original_init = Trainer.__init__

    def init_with_shared_draws(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        source, prior = self.source, self.prior

        class SharedSource:
            def __getattr__(self, name):
                return getattr(source, name)

            def sample(self, n, generator):
                return draws.take("data", n, lambda total, g: source.sample(total, g))

        class SharedPrior:
            def __getattr__(self, name):
                return getattr(prior, name)

            def sample(self, n, generator, device):
                return draws.take("noise", n, lambda total, g: prior.sample(total, g, device))

        self.source, self.prior = SharedSource(), SharedPrior()

    Trainer.__init__ = init_with_shared_draws


def install_audit(run_dir: Path, report: str) -> None:
    """Record every write-like event under ``run_dir``; written to the report at exit."""
    root = str(run_dir.resolve())
    seen: list[list[str]] = []

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR)
            )
            if writing and isinstance(path, (str, os.PathLike)):
                target = os.path.abspath(os.fspath(path))
                if target.startswith(root):
                    seen.append([event, target])
        elif event in WRITE_EVENTS:  # os.rename (os.replace too): source and destination
            for path in args[:2] if event == "os.rename" else args[:1]:
                if isinstance(path, (str, os.PathLike)):
                    target = os.path.abspath(os.fspath(path))
                    if target.startswith(root):
                        seen.append([event, target])

    sys.addaudithook(hook)
    import atexit

    def save() -> None:
        rank, _ = rank_and_world()
        rank = int(os.environ.get("RANK", rank))
        Path(f"{report}.rank{rank}.json").write_text(json.dumps(seen))

    atexit.register(save)


def main() -> int:
    job = json.loads(sys.argv[1])
    torch.set_num_threads(1)
    run_dir = Path(job["run_dir"])
    if job.get("same_samples"):
        install_same_samples()
    if job.get("audit"):
        install_audit(run_dir, job["audit"])
    if job.get("resume"):
        run = gankit.resume(run_dir, job.get("overrides", {}), progress=False)
    else:
        run = gankit.train(job["preset"], job.get("overrides", {}), run_dir=run_dir, progress=False)
    if job.get("fingerprint"):
        write_fingerprint(run, job["fingerprint"])
    return 0 if run.status in ("completed", "paused") else 143


def write_fingerprint(run, report: str) -> None:
    """sha256 of every weight and buffer of G, D and G's moving average on this rank
    (spectral norm's vectors and BatchNorm's statistics included), to path.rank<R>.json."""
    digests = {}
    for name, module in (("G", run.generator), ("D", run.discriminator), ("EMA", run.sampler)):
        for key, tensor in module.state_dict().items():
            data = tensor.detach().cpu().contiguous().numpy().tobytes()
            digests[f"{name}.{key}"] = hashlib.sha256(data).hexdigest()
    rank, _ = rank_and_world()
    Path(f"{report}.rank{rank}.json").write_text(json.dumps(digests, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
