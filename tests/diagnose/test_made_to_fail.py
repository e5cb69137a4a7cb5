"""Real runs made to fail by configuration alone, each named by the diagnosis within a stated
number of steps (docs/diagnosis.md, "Made to fail"), the failure itself confirmed with
gankit's own measures; and the held-out accuracy of D that names over-fitting."""

import pytest
import torch
from torch import nn

import gankit
from gankit.diagnose import timeline
from gankit.diagnose.rules import HELDOUT_GAP, WINDOW
from gankit.metrics import PROTOCOL_SAMPLES, mode_coverage
from gankit.train.checkpoint import list_checkpoints, load_checkpoint
from gankit.train.diagnosis import mean_pairwise_distance, membership_auc, real_logits
from gankit.train.rundir import RunDir

QUIET = {
    "samples.every": 0,
    "log.tensorboard": False,
    "device": "cpu",
    "checkpoint.every": 0,
}
COLLAPSING_RING = {
    **QUIET,
    "generator.width": 64,
    "discriminator.width": 64,
    "train.batch_size": 128,
    "log.every": 10,
    "train.steps": 300,
    "train.g_optimizer.lr": 1e-3,  # G ten times faster than D
    "train.d_optimizer.lr": 1e-4,
}
SMALL_DATA = {
    **QUIET,
    "log.every": 50,
    "data.split": "train",
    "data.max_images": 64,
    "train.d_optimizer.lr": 1e-3,
}
DIGITS = {**QUIET, "generator.width": 16, "discriminator.width": 16}


@pytest.fixture(autouse=True)
def one_thread():
    """The stated steps are those of runs on one torch thread: a reduction split over more
    threads rounds differently, and a run made to fail is as chaotic as any GAN, so its
    trajectory (and the step a failure shows) depends on the thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def verdicts(run_dir):
    events = RunDir(run_dir).read_metrics(kinds=("event",))
    return [(e["code"], e["severity"], e["step"]) for e in events if e["event"] == "diagnosis"]


def first_step(found, code):
    return next(step for c, _, step in found if c == code)


def training_records(run):
    return RunDir(run.path).read_metrics(kinds=("train",))


def test_a_generator_ten_times_faster_than_d_collapses_on_the_ring_and_is_named(tmp_path):
    run = gankit.train("ring-2d", COLLAPSING_RING, run_dir=tmp_path / "run", progress=False)
    assert first_step(verdicts(tmp_path / "run"), "mode_collapse") <= 300

    samples = run.sample(PROTOCOL_SAMPLES, seed=0)
    nearest, _ = run.source.nearest_mode(samples)
    shares = torch.bincount(nearest, minlength=8).double() / len(samples)
    assert shares.max() >= 0.95  # one clump: the ring's 8 modes get 1/8 each
    coverage = mode_coverage(samples, run.source.modes, run.source.component_stds[:, 0])
    assert coverage.modes_captured <= 1  # PacGAN protocol: 8 for a perfect sampler
    real = run.source.sample(256, torch.Generator().manual_seed(0))
    assert mean_pairwise_distance(samples[:256]) < 0.3 * mean_pairwise_distance(real)


@pytest.mark.slow
def test_a_large_d_on_64_images_is_named_d_overfitting_from_its_heldout_accuracy(tmp_path):
    overrides = {**SMALL_DATA, "train.steps": 1200}
    run = gankit.train("dcgan-digits8x8", overrides, run_dir=tmp_path / "run", progress=False)
    assert len(run.source) == 64
    assert first_step(verdicts(tmp_path / "run"), "d_overfitting") <= 1200

    last = training_records(run)[-5:]
    assert all(r["d_acc_real_train"] - r["d_acc_real_heldout"] >= HELDOUT_GAP for r in last)
    assert min(r["d_membership_auc"] for r in last) >= 0.75  # D ranks seen reals above unseen


@pytest.mark.slow
def test_the_same_d_on_the_whole_training_split_is_not_named_d_overfitting(tmp_path):
    overrides = {**SMALL_DATA, "train.steps": 1200, "data.max_images": None}
    run = gankit.train("dcgan-digits8x8", overrides, run_dir=tmp_path / "run", progress=False)
    assert len(run.source) == 1437
    assert "d_overfitting" not in [code for code, _, _ in verdicts(tmp_path / "run")]

    records = training_records(run)
    assert max(r["d_acc_real_train"] - r["d_acc_real_heldout"] for r in records) < HELDOUT_GAP / 2
    assert max(r["d_membership_auc"] for r in records) < 0.6  # 0.5: no preference for seen reals


@pytest.mark.slow
def test_a_clipped_critic_with_momentum_oscillates_and_is_named_within_1200_steps(tmp_path):
    overrides = {**DIGITS, "train.steps": 1200, "log.every": 50, "eval.every": 100}
    overrides |= {"eval.samples": 500, "objective.name": "wasserstein"}
    overrides |= {"regularisers.weight_clip.clip": 0.1}
    for player in ("g_optimizer", "d_optimizer"):  # Adam with β₁ = 0.9 on both players
        overrides |= {f"train.{player}.lr": 3e-3, f"train.{player}.betas": [0.9, 0.999]}
    gankit.train("dcgan-digits8x8", overrides, run_dir=tmp_path / "run", progress=False)
    assert first_step(verdicts(tmp_path / "run"), "oscillation") <= 1200

    records = RunDir(tmp_path / "run").read_metrics(kinds=("train", "eval"))
    g_loss = [r["g_loss"] for r in records if r["kind"] == "train"]
    assert min(g_loss[-20:]) < -2 and max(g_loss[-20:]) > 2  # G's loss swings both ways
    fid = [r["eval/fid"] for r in records if r["kind"] == "eval"]
    assert min(fid[2:]) > min(fid[:2])  # no evaluation after step 200 beats the first two


def test_learning_rates_2000_times_too_small_are_named_stalled_within_8_evaluations(tmp_path):
    overrides = {**DIGITS, "train.steps": 160, "log.every": 10, "eval.every": 20}
    overrides |= {"eval.samples": 500, "train.g_optimizer.lr": 1e-7, "train.d_optimizer.lr": 1e-7}
    gankit.train("dcgan-digits8x8", overrides, run_dir=tmp_path / "run", progress=False)
    assert first_step(verdicts(tmp_path / "run"), "stalled") <= 160

    fid = [r["eval/fid"] for r in RunDir(tmp_path / "run").read_metrics(kinds=("eval",))]
    assert len(fid) == 8
    assert max(fid[2:]) - min(fid[2:]) < 0.01 * min(fid[2:])  # G does not move


TINY = {
    **QUIET,
    "generator.width": 8,
    "discriminator.width": 8,
    "train.batch_size": 16,
    "train.steps": 30,
    "log.every": 5,
}
TINY_DIGITS = {**TINY, "data.split": "train"}
HELDOUT_KEYS = ("d_acc_real_train", "d_acc_real_heldout", "d_membership_auc")


def test_the_heldout_gap_sustained_over_a_window_is_d_overfitting():
    def record(step, gap):
        return {
            "kind": "train",
            "step": step,
            "d_acc_real_train": 0.9,
            "d_acc_real_heldout": 0.9 - gap,
            "d_membership_auc": 0.5 + gap,
        }

    balanced = [record(10 * i, 0.0) for i in range(1, 6)]
    just_below = [record(10 * i, HELDOUT_GAP - 0.01) for i in range(6, 6 + WINDOW)]
    assert timeline(balanced + just_below) == []
    apart = [record(10 * i, HELDOUT_GAP + 0.1) for i in range(6, 6 + WINDOW)]
    (verdict,) = timeline(balanced + apart)
    assert (verdict.code, verdict.severity, verdict.step) == ("d_overfitting", "warning", 100)
    assert "held-out reals 0.500 against 0.900" in verdict.evidence
    assert "membership AUC 0.900" in verdict.evidence
    one_record_back = apart[:-1] + [record(100, 0.0)]
    assert timeline(balanced + one_record_back) == []


def test_membership_auc_counts_pairs_and_half_counts_ties():
    seen, unseen = torch.tensor([3.0, 2.0]), torch.tensor([1.0, 2.0])
    assert membership_auc(seen, unseen) == pytest.approx((1 + 1 + 1 + 0.5) / 4)
    assert membership_auc(unseen, seen) == pytest.approx((0 + 0 + 0.5 + 0) / 4)
    assert membership_auc(seen, seen - 10) == 1.0


def test_real_logits_use_batch_statistics_and_leave_d_and_the_random_stream_alone():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 1))
    D.train()
    with torch.no_grad():
        D[1].running_mean.fill_(5.0)  # eval-mode statistics far from the batch's
    x = torch.randn(8, 3)
    before = {k: v.clone() for k, v in D.state_dict().items()}
    rng = torch.get_rng_state()

    logits = real_logits(D, x, None)

    hidden = D[0](x)
    normalised = (hidden - hidden.mean(0)) / torch.sqrt(hidden.var(0, unbiased=False) + 1e-5)
    expected = D[3](normalised * D[1].weight + D[1].bias)  # dropout off
    torch.testing.assert_close(logits, expected.detach())
    assert all(torch.equal(before[k], v) for k, v in D.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(m.training for m in D.modules())


@pytest.mark.parametrize(
    ("preset", "overrides", "measured"),
    [
        ("dcgan-digits8x8", TINY_DIGITS, True),
        ("dcgan-digits8x8", TINY, False),  # split=all: the held-out digits are trained on
        ("dcgan-digits8x8", {**TINY_DIGITS, "objective.name": "wasserstein"}, False),  # no d_acc
        ("ring-2d", TINY, False),  # no held-out split
    ],
    ids=["digits-train", "digits-all", "wasserstein", "ring"],
)
def test_heldout_accuracy_is_logged_where_d_has_unseen_reals(tmp_path, preset, overrides, measured):
    settings = {**overrides, "train.steps": 10}
    run = gankit.train(preset, settings, run_dir=tmp_path / "run", progress=False)
    records = training_records(run)
    assert [all(k in r for k in HELDOUT_KEYS) for r in records] == [measured] * len(records)
    for r in records if measured else ():
        assert 0 <= r["d_acc_real_heldout"] <= 1 and 0 <= r["d_membership_auc"] <= 1


def _final_state(run):
    return load_checkpoint(list_checkpoints(run.dir.checkpoints_dir)[-1])


def _without_timing(records):
    return [{k: v for k, v in r.items() if k != "steps_per_s"} for r in records]


def test_measuring_heldout_accuracy_changes_no_step_of_training(tmp_path):
    on = gankit.train("dcgan-digits8x8", TINY_DIGITS, run_dir=tmp_path / "on", progress=False)
    off_settings = {**TINY_DIGITS, "log.diagnosis": False}
    off = gankit.train("dcgan-digits8x8", off_settings, run_dir=tmp_path / "off", progress=False)
    assert all(k in training_records(on)[0] for k in HELDOUT_KEYS)
    a, b = _final_state(on), _final_state(off)
    for key in a.models:
        assert torch.equal(a.models[key], b.models[key]), key
    for key in a.training:
        assert torch.equal(a.training[key], b.training[key]), key
    losses = [[(r["d_loss"], r["g_loss"]) for r in training_records(run)] for run in (on, off)]
    assert losses[0] == losses[1]


def test_a_resumed_run_logs_the_same_heldout_accuracy_bit_for_bit(tmp_path):
    straight = gankit.train("dcgan-digits8x8", TINY_DIGITS, run_dir=tmp_path / "a", progress=False)
    first = gankit.train(
        "dcgan-digits8x8", TINY_DIGITS, run_dir=tmp_path / "b", progress=False, until_step=13
    )
    resumed = gankit.resume(first.path, progress=False)
    assert resumed.step == straight.step == 30
    assert all(k in r for r in training_records(resumed) for k in HELDOUT_KEYS)
    assert _without_timing(straight.metrics()) == _without_timing(resumed.metrics())
