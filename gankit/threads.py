"""How many CPU threads torch's kernels use (intra-op parallelism) when gankit runs.

Which number, first match wins:

1. an explicit one (``--threads N``);
2. ``OMP_NUM_THREADS``, which torch reads when it is imported: gankit leaves it alone;
3. otherwise a number that does not oversubscribe a busy machine (:func:`default_threads`):

       threads = max(1, min(usable physical cores, ⌊online CPUs − 1-minute load average⌋))

   The load average (``os.getloadavg``) counts the runnable threads of the whole machine,
   so online CPUs − load is roughly the cores nobody is using; a machine whose cores are all
   busy gets one thread rather than a pile of threads fighting for the same cores. Usable
   physical cores are the cores (not hyper-threads) among the CPUs this process may run on
   (``os.sched_getaffinity``), capped by a cgroup CPU quota (``cpu.max``), as torch's own
   default counts physical cores.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
"""cgroup v2's CPU quota: ``QUOTA PERIOD`` in microseconds, or ``max PERIOD`` for none."""


@dataclass(frozen=True)
class ThreadChoice:
    """The number of threads chosen and why (for the run's start line)."""

    count: int
    reason: str

    def __str__(self) -> str:
        noun = "thread" if self.count == 1 else "threads"
        return f"{self.count} CPU {noun} ({self.reason})"


def default_threads(physical_cores: int, online_cpus: int, load: float) -> int:
    """max(1, min(physical_cores, ⌊online_cpus − load⌋)): the cores left idle by the
    machine's load average, never more than the physical cores this process may use."""
    idle = math.floor(online_cpus - load) if math.isfinite(load) else 1
    return max(1, min(physical_cores, idle))


def usable_physical_cores(
    cpus: set[int] | None = None,
    topology: Path = Path("/sys/devices/system/cpu"),
    cpu_max: Path = CGROUP_CPU_MAX,
) -> int:
    """Physical cores among ``cpus`` (default: those this process may run on), counted as
    distinct (package, core) pairs of the kernel's CPU topology, capped by the cgroup CPU
    quota rounded up; the number of CPUs where the topology cannot be read."""
    if cpus is None:
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        cpus = cpus or set(range(os.cpu_count() or 1))
    cores = set()
    for cpu in cpus:
        where = topology / f"cpu{cpu}" / "topology"
        try:
            package = (where / "physical_package_id").read_text().strip()
            core = (where / "core_id").read_text().strip()
        except OSError:
            cores = set(cpus)  # no topology (not Linux, a sandbox): count logical CPUs
            break
        cores.add((package, core))
    count = len(cores) or 1
    quota = _cgroup_quota(cpu_max)
    return max(1, min(count, math.ceil(quota))) if quota is not None else count


def _cgroup_quota(path: Path) -> float | None:
    """CPUs' worth of time the cgroup may use (quota / period), or None when unlimited or
    unreadable."""
    try:
        quota, period = path.read_text().split()[:2]
        return int(quota) / int(period) if quota != "max" and int(period) > 0 else None
    except (OSError, ValueError):
        return None


def load_average() -> float:
    """The machine's 1-minute load average; 0 where the system has none (Windows)."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0


def choose_threads(
    requested: int | None = None, environ: Mapping[str, str] = os.environ
) -> ThreadChoice:
    """The thread count by the rule of this module (``requested`` is ``--threads``)."""
    if requested is not None:
        return ThreadChoice(requested, "--threads")
    if environ.get("OMP_NUM_THREADS", "").strip():
        return ThreadChoice(torch.get_num_threads(), "OMP_NUM_THREADS")
    physical, online, load = usable_physical_cores(), os.cpu_count() or 1, load_average()
    count = default_threads(physical, online, load)
    return ThreadChoice(
        count, f"load {load:.2f} on {online} CPUs, {physical} usable physical cores"
    )


def set_threads(requested: int | None = None) -> ThreadChoice:
    """Choose the thread count (:func:`choose_threads`) and give it to torch."""
    choice = choose_threads(requested)
    if choice.count != torch.get_num_threads():
        torch.set_num_threads(choice.count)
    return choice
