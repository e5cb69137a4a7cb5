"""Independent seeds for a run's random streams, derived from its one ``seed``.

Each stream ("data", "noise", "eval_z", "holdout", …) gets its own 63-bit seed from
``numpy.random.SeedSequence([seed, *stream.encode()])``: streams of one run are
independent of each other, and the same (seed, stream) gives the same seed on every
machine and in every version of gankit that keeps this function.
"""

from __future__ import annotations

import numpy as np


def derive_seed(seed: int, stream: str) -> int:
    """An independent 63-bit seed for one random stream ("data", "noise", …) of a run."""
    entropy = [seed, *stream.encode()]
    return int(np.random.SeedSequence(entropy).generate_state(2, np.uint64)[0] >> np.uint64(1))
