"""Seeds of a run's random streams: stable across versions, independent across streams."""

import pytest

from gankit.seeding import derive_seed


@pytest.mark.parametrize(
    ("seed", "stream", "expected"),
    [
        (0, "data", 1557076856005854010),
        (0, "noise", 6407881627401620128),
        (1, "data", 6998648294162633166),
        (2**63 - 1, "eval_z", 4103860335556123866),
        (12345, "holdout", 2152105101734783581),
    ],
)
def test_seeds_are_those_every_earlier_run_used(seed, stream, expected):
    # the values of gankit 0.1.0's gankit.train.trainer.derive_seed: checkpoints and
    # recorded results depend on them
    assert derive_seed(seed, stream) == expected


def test_streams_and_seeds_give_different_63_bit_seeds():
    seeds = {derive_seed(seed, stream) for seed in range(20) for stream in ("data", "noise", "z")}
    assert len(seeds) == 60
    assert all(0 <= s < 2**63 for s in seeds)
