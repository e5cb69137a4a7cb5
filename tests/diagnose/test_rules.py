"""Each diagnosis rule on synthetic record sequences: where it fires, and where it does not."""

import math

from gankit.diagnose import Monitor, timeline
from gankit.diagnose.rules import (
    D_FAKE_LOW,
    STALL_EVALS,
    W_BOUND,
    WINDOW,
    History,
    critic_not_lipschitz,
    d_overpowers_g,
)


def train(step, **values):
    return {"kind": "train", "step": step, **values}


def balanced(step):
    return train(
        step, d_loss=1.38, g_loss=0.7, d_acc=0.5, d_real=0.52, d_fake=0.48, g_grad_norm=0.5
    )


def codes(records, objective=None, checkpoints=()):
    return [(v.code, v.severity, v.step) for v in timeline(records, objective, checkpoints)]


def test_a_balanced_game_is_healthy():
    assert codes([balanced(10 * i) for i in range(1, 100)]) == []


def test_d_overpowering_g_fires_after_a_window_and_clears_when_g_recovers():
    records = [balanced(10 * i) for i in range(1, 6)]
    winning = dict(d_loss=0.05, g_loss=-0.02, d_acc=0.99, d_real=0.98, d_fake=0.02, g_grad_norm=0.4)
    records += [train(10 * i, **winning) for i in range(6, 6 + WINDOW)]
    records += [balanced(10 * i) for i in range(6 + WINDOW, 20)]
    assert codes(records) == [("d_overpowers_g", "warning", 100), ("healthy", "ok", 110)]


def test_d_overpowering_g_is_failed_once_gs_gradient_vanishes():
    records = [balanced(10 * i) for i in range(1, 6)]
    records += [train(10 * i, d_acc=1.0, d_fake=0.001, g_grad_norm=0.01) for i in range(6, 11)]
    assert codes(records) == [("d_overpowers_g", "failed", 100)]


def test_d_overpowering_g_needs_the_whole_window():
    records = [balanced(10 * i) for i in range(1, 6)]
    records += [train(10 * i, d_acc=1.0, d_fake=0.01, g_grad_norm=0.4) for i in range(6, 10)]
    records.append(train(100, d_acc=1.0, d_fake=D_FAKE_LOW + 0.05, g_grad_norm=0.4))
    assert codes(records) == []


def test_divergence_names_nan_and_the_last_checkpoint_before_it():
    records = [balanced(10 * i) for i in range(1, 10)]
    records.append({"kind": "train", "step": 100, "d_loss": None, "nonfinite": ["d_loss"]})
    checkpoints = [(50, "checkpoints/step_00000050"), (90, "checkpoints/step_00000090")]
    (verdict,) = timeline(records, checkpoints=checkpoints)
    assert (verdict.code, verdict.severity, verdict.step) == ("divergence", "failed", 100)
    assert "d_loss" in verdict.evidence
    assert "checkpoints/step_00000090" in verdict.remedy


def test_divergence_in_the_training_process_sees_nan_floats():
    records = [balanced(10 * i) for i in range(1, 3)] + [train(30, g_loss=math.nan)]
    assert codes(records) == [("divergence", "failed", 30)]


def test_a_loss_explosion_is_divergence():
    records = [balanced(10 * i) for i in range(1, 10)] + [train(100, d_loss=5e3, g_loss=0.7)]
    assert codes(records) == [("divergence", "failed", 100)]


def test_an_unbounded_w_estimate_is_not_lipschitz_for_wasserstein_only():
    records = [train(10 * i, divergence_estimate=0.1 * i) for i in range(1, 6)]
    records += [train(10 * i, divergence_estimate=2 * W_BOUND) for i in range(6, 11)]
    assert codes(records, "wasserstein") == [("critic_not_lipschitz", "failed", 100)]
    assert codes(records, "hinge") == []


def test_a_large_gradient_penalty_is_not_lipschitz():
    history = History(objective="wasserstein")
    history.train = [train(10 * i, **{"penalty/gradient_penalty": 0.2}) for i in range(1, 6)]
    assert critic_not_lipschitz(history) is None
    history.train += [train(10 * i, **{"penalty/gradient_penalty": 50.0}) for i in range(6, 11)]
    assert critic_not_lipschitz(history).step == 100


def test_high_ada_rt_sustained_is_d_overfitting():
    records = [train(10 * i, augment_rt=0.6, augment_p=0.2) for i in range(1, 6)]
    records += [train(10 * i, augment_rt=0.95, augment_p=1.0) for i in range(6, 11)]
    assert codes(records) == [("d_overfitting", "warning", 100)]


def test_falling_sample_diversity_is_mode_collapse():
    records = [train(10 * i, sample_diversity=1.0) for i in range(1, 6)]
    records += [train(60, sample_diversity=0.15), train(70, sample_diversity=0.1)]
    assert codes(records) == [("mode_collapse", "warning", 70)]


def test_recall_halving_at_an_evaluation_is_mode_dropping():
    records = [balanced(100), {"kind": "eval", "step": 100, "eval/recall": 0.6}]
    records += [balanced(200), {"kind": "eval", "step": 200, "eval/recall": 0.2}]
    assert codes(records) == [("mode_collapse", "warning", 200)]


def test_no_fid_improvement_in_n_evaluations_is_stalled():
    records = []
    for i, fid in enumerate([80, 40, 30] + [30.5] * STALL_EVALS, start=1):
        records += [balanced(100 * i), {"kind": "eval", "step": 100 * i, "eval/fid": fid}]
    assert codes(records) == [("stalled", "warning", 100 * (3 + STALL_EVALS))]


def test_improving_fid_never_stalls():
    records = []
    for i in range(1, 20):
        records += [balanced(100 * i), {"kind": "eval", "step": 100 * i, "eval/fid": 100 / i}]
    assert codes(records) == []


def test_g_loss_cycling_without_eval_progress_is_oscillation():
    records = [{"kind": "eval", "step": 0, "eval/fid": 20.0}]
    for i in range(1, 41):
        records.append(train(10 * i, g_loss=1.0 + (0.8 if (i // 2) % 2 else -0.8)))
        if i % 10 == 0:
            records.append({"kind": "eval", "step": 10 * i, "eval/fid": 25.0})
    fired = [c for c in codes(records) if c[0] == "oscillation"]
    assert fired == [("oscillation", "warning", 200)]


def test_monitor_reports_only_changes_and_events_are_ignored():
    monitor = Monitor()
    assert monitor.observe({"kind": "event", "event": "resume", "step": 0}) == []
    for i in range(1, 6):
        assert monitor.observe(train(10 * i, d_acc=1.0, d_fake=0.0)) == (
            [] if i < 5 else [monitor.current]
        )
    assert monitor.observe(train(60, d_acc=1.0, d_fake=0.0)) == []
    assert monitor.current.mark == "⚠ d_overpowers_g"


def test_d_overpowers_g_needs_d_accuracy():
    history = History(train=[train(10 * i, d_fake=0.0) for i in range(1, 11)])
    assert d_overpowers_g(history) is None
