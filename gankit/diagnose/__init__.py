"""Training-health diagnosis: named failure modes read from a run's metric records.

Rules (:mod:`gankit.diagnose.rules`) are pure functions of the records logged so far
(:class:`History`); :class:`Monitor` feeds records to them one at a time and reports when
the set of firing modes changes, in the training process and offline alike.
"""

from gankit.diagnose.monitor import Monitor, timeline
from gankit.diagnose.rules import RULES, History
from gankit.diagnose.verdict import SEVERITIES, Verdict, worst_severity

__all__ = ["RULES", "SEVERITIES", "History", "Monitor", "Verdict", "timeline", "worst_severity"]
