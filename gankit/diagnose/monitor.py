"""Running the rules over records as they come, and reporting what changed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gankit.diagnose.rules import RULES, History
from gankit.diagnose.verdict import SEVERITIES, Verdict, healthy


class Monitor:
    """Feeds metric records to every rule, one record at a time.

    After each training or evaluation record the firing modes are compared with those
    before it: a mode that starts firing, or whose severity changes, is a change, and so is
    "healthy" when the last mode stops. Other records (events) are ignored. ``band`` is
    the reference band the run is compared with (``History.band``)."""

    def __init__(self, objective: str | None = None, band: dict[str, Any] | None = None) -> None:
        self.history = History(objective=objective, band=band)
        self.active: dict[str, Verdict] = {}

    def add_checkpoint(self, step: int, name: str) -> None:
        """A checkpoint the divergence rule may send the user back to."""
        self.history.checkpoints.append((step, name))

    def observe(self, record: dict[str, Any]) -> list[Verdict]:
        """The verdicts that changed with ``record``, in the order of the rules."""
        kind = record.get("kind", "train")
        if kind == "train":
            self.history.train.append(record)
        elif kind == "eval":
            self.history.evals.append(record)
        else:
            return []
        firing = {v.code: v for rule in RULES if (v := rule(self.history)) is not None}
        changes = [
            v
            for code, v in firing.items()
            if code not in self.active or self.active[code].severity != v.severity
        ]
        if self.active and not firing:
            changes.append(healthy(self.history.step))
        self.active = firing
        return changes

    @property
    def current(self) -> Verdict:
        """The most severe firing mode (the most urgent rule first), else "healthy"."""
        if not self.active:
            return healthy(self.history.step)
        return max(self.active.values(), key=lambda v: SEVERITIES.index(v.severity))


def timeline(
    records: Iterable[dict[str, Any]],
    objective: str | None = None,
    checkpoints: Iterable[tuple[int, str]] = (),
    band: dict[str, Any] | None = None,
) -> list[Verdict]:
    """Every change of verdict over ``records`` (in file order, resume markers applied),
    as the training process's :class:`Monitor` reports them."""
    monitor = Monitor(objective, band)
    for step, name in checkpoints:
        monitor.add_checkpoint(step, name)
    return [change for record in records for change in monitor.observe(record)]
