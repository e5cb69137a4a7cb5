import json
import math

import pytest
import torch

from gankit.data.images import Mnist5kOptions, mnist5k
from gankit.lab.base import LabError
from gankit.lab.wgan_curve import (
    LOG2,
    feature_distance,
    run_config,
    spearman,
    split_holdout,
    wgan_curve,
)
from gankit.metrics.frechet import frechet_distance_features

# Reduced options: every code path, a few seconds of training, no claim about the numbers.
TINY = {"steps": 30, "gan_steps": 30, "evals": 3, "holdout": 200, "n_quality": 100, "js_steps": 5}


def test_quality_is_the_metrics_frechet_distance_in_the_classifiers_features():
    # the lab has no Fréchet distance of its own (its closed form is tested in
    # tests/metrics/test_frechet.py): the feature map, then gankit.metrics.frechet
    torch.manual_seed(0)
    classifier = torch.nn.Sequential(
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 5)), torch.nn.Linear(5, 2)
    )
    x, y = torch.randn(40, 1, 4, 4), torch.randn(30, 1, 4, 4) + 0.5
    features = classifier[0]
    expected = frechet_distance_features(features(x).detach(), features(y).detach())
    assert feature_distance(classifier, x, y) == expected


def test_spearman_ranks_and_constant_input():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5]))


def test_holdout_split_is_disjoint_and_seeded():
    source = mnist5k(Mnist5kOptions())
    training, held = split_holdout(source, 300, seed=4)
    assert len(training) == 4700 and held.images.shape == (300, 1, 28, 28)
    assert held.images.min() >= -1 and held.images.max() <= 1
    held_uint8 = held.images.add(1).mul(127.5).round().to(torch.uint8).flatten(1)
    train_rows = {row.numpy().tobytes() for row in training.images.flatten(1)}
    # MNIST-5k has no duplicate images, so no held-out digit is among the training ones.
    assert not any(row.numpy().tobytes() in train_rows for row in held_uint8)
    again, held_again = split_holdout(source, 300, seed=4)
    assert torch.equal(held.images, held_again.images)
    assert torch.equal(training.images, again.images)


def test_both_runs_share_the_generator_and_differ_in_the_game():
    wgan = run_config("wgan-gp", seed=0, steps=10, every=5, width=32, z_dim=8, batch_size=16)
    gan = run_config("gan", seed=0, steps=10, every=5, width=32, z_dim=8, batch_size=16)
    assert wgan["generator"] == gan["generator"] and wgan["noise"] == gan["noise"]
    assert wgan["discriminator"] == gan["discriminator"]
    assert (
        wgan["objective"]["name"] == "wasserstein" and gan["objective"]["name"] == "nonsaturating"
    )
    assert wgan["regularisers"]["gradient_penalty"]["weight"] == 10.0
    assert wgan["train"]["d_steps"] == 5 and gan["train"]["d_steps"] == 1


@pytest.mark.parametrize(
    "options", [{"evals": 2}, {"steps": 35, "evals": 10}, {"n_quality": 600}, {"js_steps": -1}]
)
def test_impossible_options_are_refused(tmp_path, options):
    with pytest.raises(LabError):
        wgan_curve(out_dir=tmp_path, progress=False, **{**TINY, **options})


@pytest.mark.slow
def test_reduced_run_writes_everything_and_can_be_rerun(tmp_path):
    threads = torch.get_num_threads()
    first = wgan_curve(out_dir=tmp_path, seed=1, progress=False, **TINY)
    second = wgan_curve(out_dir=tmp_path, seed=1, progress=False, **TINY)  # same run dirs
    assert torch.get_num_threads() == threads
    png, numbers_path = tmp_path / "wgan-curve.png", tmp_path / "wgan-curve.json"
    assert second.figure == png and second.numbers_path == numbers_path
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000
    numbers = json.loads(numbers_path.read_text())
    for key in ("wgan_gp", "gan"):
        curve = numbers[key]
        assert curve["step"] == [10, 20, 30]
        for name in ("critic", "logged", "quality", "pixel_w1", "fresh_js"):
            assert len(curve[name]) == 3 and all(math.isfinite(v) for v in curve[name])
    # Same seed, same numbers: the second run replaced the first one's run directories.
    assert first.numbers["wgan_gp"]["critic"] == second.numbers["wgan_gp"]["critic"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["gan", "wgan-gp"]
    assert (tmp_path / "runs" / "wgan-gp" / "summary.json").is_file()


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("wgan-curve")
    return out, wgan_curve(out_dir=out, seed=0, progress=False)


# Measured with the defaults (seeds 0, 1, 2): Spearman ρ(W1 estimate, quality) = 1.00 for
# all three; W1 estimate 8.30 → 4.27, 8.15 → 4.15, 8.33 → 3.94; feature Fréchet distance
# 427 → 10, 503 → 18, 435 → 19 (WGAN-GP) and 506 → 73, 602 → 94, 511 → 84 (GAN); the GAN's
# training-D JS estimate in 0.088–0.289, 0.071–0.337, 0.149–0.324 with ρ = −0.59, −0.60,
# −0.56; a fresh D's JS on GAN samples never more than 0.003 below log 2 (held-out accuracy
# 100 %), on WGAN-GP samples falling to 0.365, 0.398, 0.373.


@pytest.mark.slow
def test_default_run_shows_the_w1_estimate_tracking_quality(default_run):
    out, result = default_run
    assert (out / "wgan-curve.png").stat().st_size > 10_000
    assert (out / "wgan-curve.json").stat().st_size > 0
    n = result.numbers
    assert len(n["wgan_gp"]["step"]) == len(n["gan"]["step"]) == 10
    assert n["wgan_gp_spearman_critic_quality"] >= 0.8
    first, last = n["wgan_gp_critic_first_last"]
    assert last < 0.75 * first
    quality_first, quality_last = n["wgan_gp_quality_first_last"]
    assert quality_last < quality_first / 5
    assert quality_last > n["quality_floor"]  # not better than real digits


@pytest.mark.slow
def test_default_run_shows_the_gan_js_estimate_not_tracking_quality(default_run):
    _, result = default_run
    n = result.numbers
    quality_first, quality_last = n["gan_quality_first_last"]
    assert quality_last < quality_first / 3  # the GAN's samples do improve...
    # ...while its training D's JS estimate stays well below log 2 and does not fall with
    # them (it rises as D grows stronger)...
    assert 0.02 < min(n["gan"]["critic"]) and max(n["gan"]["critic"]) < 0.5
    assert n["gan_spearman_critic_quality"] < 0.5
    # ...and a D trained afresh separates every checkpoint almost perfectly: JS ≈ log 2.
    assert all(LOG2 - 0.02 <= v <= LOG2 + 1e-9 for v in n["gan"]["fresh_js"])
    assert n["gan_fresh_js_accuracy_range"][0] >= 0.97
    # On WGAN-GP's samples the same fresh D's estimate falls well below log 2.
    assert n["wgan_gp"]["fresh_js"][-1] < 0.6
