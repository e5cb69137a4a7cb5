"""A verdict: one named failure mode (or "healthy") at a step, its evidence and remedy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["ok", "warning", "failed"]
SEVERITIES: tuple[Severity, ...] = ("ok", "warning", "failed")
"""From harmless to fatal; a run's status is its worst verdict's."""

DIAGNOSIS_EVENT = "diagnosis"
"""The ``event`` name of a verdict's record in metrics.jsonl."""


@dataclass(frozen=True)
class Verdict:
    """``code`` names the mode (``d_overpowers_g``, ``healthy``…), ``step`` the training
    step of the record that showed it, ``evidence`` the numbers, ``remedy`` what to try."""

    code: str
    severity: Severity
    step: int
    evidence: str
    remedy: str

    def to_event(self) -> dict[str, Any]:
        """The verdict as a metrics.jsonl record of kind ``event``."""
        return {"kind": "event", "event": DIAGNOSIS_EVENT, **asdict(self)}

    @classmethod
    def from_event(cls, record: dict[str, Any]) -> Verdict:
        return cls(
            str(record["code"]),
            record["severity"],
            int(record["step"]),
            str(record.get("evidence", "")),
            str(record.get("remedy", "")),
        )

    @property
    def mark(self) -> str:
        """A short label for a progress line: ``⚠ d_overpowers_g``, ``✗ divergence``."""
        return {"ok": "✓", "warning": "⚠", "failed": "✗"}[self.severity] + f" {self.code}"


def healthy(step: int) -> Verdict:
    """The verdict when no failure mode fires."""
    return Verdict("healthy", "ok", step, "no failure mode fires", "")


def worst_severity(verdicts: Iterable[Verdict]) -> Severity:
    """The most severe of ``verdicts``; "ok" when there are none."""
    return max((v.severity for v in verdicts), key=SEVERITIES.index, default="ok")
