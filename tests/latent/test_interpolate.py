"""gankit interpolate: lerp and slerp (Shoemake 1985) in closed form, exact path ends equal
to Run.sample, one row per class for conditional runs, grids, GIFs and plots, and one-line
refusals."""

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.cli import main
from gankit.config import ConfigError
from gankit.latent import interpolate as walk
from gankit.viz import image_grid
from tests.train.tiny import TINY_RING


def _pair(dim=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(3, dim, generator=generator), torch.randn(3, dim, generator=generator)


def test_lerp_is_the_straight_line():
    a, b = _pair()
    t = torch.tensor([0.0, 0.25, 0.5, 1.0])
    path = walk.lerp(a, b, t)
    assert path.shape == (3, 4, 16)
    torch.testing.assert_close(path[:, 1], 0.75 * a + 0.25 * b, rtol=0, atol=1e-6)
    torch.testing.assert_close(path[:, 2], (a + b) / 2, rtol=0, atol=1e-6)


def test_slerp_keeps_the_norm_and_turns_at_a_constant_rate():
    a, b = _pair(dim=64)
    b = b * (a.norm(dim=1, keepdim=True) / b.norm(dim=1, keepdim=True))  # equal norms
    path = walk.latent_path(a, b, 9, "slerp")
    norms = path.double().norm(dim=2)
    torch.testing.assert_close(
        norms, a.double().norm(dim=1, keepdim=True).expand(3, 9), rtol=1e-6, atol=0
    )
    omega = torch.arccos(torch.nn.functional.cosine_similarity(a.double(), b.double()))
    steps = torch.arccos(
        torch.nn.functional.cosine_similarity(
            path[:, :-1].double(), path[:, 1:].double(), dim=2
        ).clamp(-1, 1)
    )
    torch.testing.assert_close(steps, (omega / 8)[:, None].expand(3, 8), rtol=1e-4, atol=1e-6)
    # lerp's midpoint of the same ends is shorter: |a + b|/2 = |a|·cos(Ω/2)
    middle = walk.latent_path(a, b, 3, "lerp")[:, 1].double().norm(dim=1)
    torch.testing.assert_close(
        middle, a.double().norm(dim=1) * torch.cos(omega / 2), rtol=1e-6, atol=0
    )


def test_slerp_of_parallel_ends_is_lerp():
    a = torch.tensor([[1.0, 2.0, -1.0]])
    t = torch.tensor([0.0, 0.3, 1.0])
    torch.testing.assert_close(walk.slerp(a, 3 * a, t), walk.lerp(a, 3 * a, t))


@pytest.mark.parametrize("method", walk.METHODS)
def test_path_ends_are_the_given_z_bit_for_bit(method):
    a, b = _pair(dim=100, seed=3)
    path = walk.latent_path(a, b, 7, method)
    assert torch.equal(path[:, 0], a) and torch.equal(path[:, -1], b)


def test_bad_methods_and_step_counts_are_refused():
    a, b = _pair()
    with pytest.raises(ConfigError, match="unknown interpolation 'cubic'; choose slerp or lerp"):
        walk.latent_path(a, b, 4, "cubic")
    with pytest.raises(ConfigError, match="at least 2 steps"):
        walk.latent_path(a, b, 1)


def test_two_step_paths_are_the_samples_of_the_same_seed(digits):
    # random pairs are z[0::2] → z[1::2] of latents(2·paths): with 2 steps the batch is
    # exactly Run.sample's, so the images are bit for bit the same
    start, end = walk.random_endpoints(digits, paths=3, seed=5)
    images = walk.interpolate(digits, start, end, steps=2)
    assert images.shape == (3, 2, 1, 8, 8)
    assert torch.equal(images.reshape(6, 1, 8, 8), digits.sample(6, seed=5))


def test_seed_ends_are_the_samples_of_those_seeds(digits):
    start, end = walk.seed_endpoints(digits, 11, 12)
    assert torch.equal(start, digits.latents(1, 11)) and torch.equal(end, digits.latents(1, 12))
    images = walk.interpolate(digits, start, end, steps=6)
    # the same z; the CPU kernels of a batch of 6 and one of 1 differ by ~1e-7
    torch.testing.assert_close(images[0, 0], digits.sample(1, 11)[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(images[0, -1], digits.sample(1, 12)[0], rtol=0, atol=1e-5)
    assert (images[0, 0] - images[0, -1]).abs().max() > 0.05  # the path goes somewhere


def test_a_conditional_run_gets_a_row_per_class_along_one_z_path(conditional):
    start, end = walk.random_endpoints(conditional, paths=2, seed=1)
    images = walk.interpolate(conditional, start, end, steps=2)
    assert images.shape == (20, 2, 1, 8, 8)  # 2 paths × 10 classes
    for path in range(2):
        for label in (0, 7):
            expected = conditional.generate(torch.stack([start[path], end[path]]), label)
            torch.testing.assert_close(images[path * 10 + label], expected, rtol=0, atol=1e-5)
    one = walk.interpolate(conditional, start, end, steps=2, label=7)
    assert one.shape == (2, 2, 1, 8, 8)
    both = torch.stack([start[0], end[0], start[1], end[1]])  # the batch interpolate makes
    assert torch.equal(one.reshape(4, 1, 8, 8), conditional.generate(both, 7))


def test_unconditional_runs_refuse_a_label(digits):
    start, end = walk.random_endpoints(digits, paths=1)
    with pytest.raises(ConfigError, match="an unconditional run takes no label"):
        walk.interpolate(digits, start, end, label=3)


def test_the_grid_has_a_row_per_path_and_the_gif_a_frame_per_step(digits, tmp_path):
    start, end = walk.random_endpoints(digits, paths=4, seed=2)
    images = walk.interpolate(digits, start, end, steps=5)
    grid = np.asarray(Image.open(walk.save_grid(images, tmp_path / "walk.png")))
    assert np.array_equal(grid, image_grid(images.reshape(20, 1, 8, 8), 5)[:, :, 0])
    assert grid.shape == (4 * 10 + 2, 5 * 10 + 2)

    path = walk.save_animation(images, tmp_path / "walk.gif", fps=20, columns=2, bounce=True)
    with Image.open(path) as gif:
        assert gif.n_frames == 5 + 3  # there and back, without repeating the ends
        assert gif.info["duration"] == 50 and gif.info["loop"] == 0
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("L")))
    order = [0, 1, 2, 3, 4, 3, 2, 1]
    for frame, step in zip(frames, order, strict=True):
        assert np.array_equal(frame, image_grid(images[:, step], 2)[:, :, 0])  # grey is exact


def test_read_latents_joins_files_and_refuses_bad_ones(digits, tmp_path):
    one, two = np.arange(100, dtype=np.float64), np.ones((2, 100), dtype=np.float32)
    np.save(tmp_path / "one.npy", one)
    np.save(tmp_path / "two.npy", two)
    z = walk.read_latents(digits, [tmp_path / "one.npy", tmp_path / "two.npy"])
    assert z.dtype == torch.float32 and z.shape == (3, 100)
    assert torch.equal(z[0], torch.arange(100, dtype=torch.float32))
    start, end = walk.keypoint_endpoints(z)
    assert torch.equal(start, z[:2]) and torch.equal(end, z[1:])
    np.save(tmp_path / "short.npy", np.zeros((2, 7)))
    with pytest.raises(
        ConfigError,
        match=r"short.npy: expected z of shape \(k, 100\) or \(100,\) for this run's noise.dim=100, got float64 \(2, 7\)",
    ):
        walk.read_latents(digits, [tmp_path / "short.npy"])
    np.save(tmp_path / "nan.npy", np.full(100, np.nan))
    with pytest.raises(ConfigError, match="NaN or infinite"):
        walk.read_latents(digits, [tmp_path / "nan.npy"])
    with pytest.raises(ConfigError, match="at least 2 key points"):
        walk.keypoint_endpoints(z[:1])


def test_cli_writes_a_grid_a_gif_and_a_plot_of_points(digits, conditional, ring, tmp_path, capsys):
    assert (
        main(["interpolate", str(digits.path), "-o", str(tmp_path / "w.png"), "--paths", "3"]) == 0
    )
    assert Image.open(tmp_path / "w.png").size == (8 * 10 + 2, 3 * 10 + 2)
    assert "3 slerp path(s) of 8 steps" in capsys.readouterr().out
    args = ["interpolate", str(conditional.path), "-o", str(tmp_path / "c.gif")]
    assert (
        main([*args, "--from-seed", "1", "--to-seed", "2", "--steps", "4", "--method", "lerp"]) == 0
    )
    with Image.open(tmp_path / "c.gif") as gif:
        assert gif.n_frames == 4 and gif.size == (10 * 10 + 2, 10 + 2)  # one line of 10 classes
    assert main(["interpolate", str(ring.path), "-o", str(tmp_path / "r.png")]) == 0
    assert Image.open(tmp_path / "r.png").size == (500, 450)  # the plot


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-o", "w.bmp"], "cannot write an interpolation as '.bmp'"),
        (["-o", "w.png", "--from-seed", "1"], "give both --from-seed and --to-seed"),
        (
            ["-o", "w.png", "--paths", "2", "--from-seed", "1", "--to-seed", "2"],
            "choose one source of ends",
        ),
        (["-o", "w.png", "--z", "missing.npy"], "missing.npy: cannot read z vectors"),
        (["-o", "w.png", "--label", "3"], "an unconditional run takes no label"),
        (
            ["-o", "w.gif", "--fps", "0"],
            "fps must be above 0 and at most 100 (GIF's limit), got 0.0",
        ),
    ],
)
def test_cli_refuses_bad_input_in_one_line(digits, tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    assert main(["interpolate", str(digits.path), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_an_animation_of_points_and_a_missing_run(ring, tmp_path, capsys):
    assert main(["interpolate", str(ring.path), "-o", str(tmp_path / "r.gif")]) == 2
    assert "generates points: an animation needs an image run" in capsys.readouterr().err
    assert main(["interpolate", str(tmp_path / "nowhere"), "-o", str(tmp_path / "r.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_default_method_follows_the_prior(digits, tmp_path):
    assert walk.default_method(digits) == "slerp"
    overrides = {**TINY_RING, "train.steps": 1, "noise.distribution": "uniform"}
    uniform = gankit.train("ring-2d", overrides, run_dir=tmp_path / "u", progress=False)
    assert walk.default_method(uniform) == "lerp"
    start, end = walk.random_endpoints(uniform, paths=50, seed=0)
    path = walk.latent_path(start, end, 11, walk.default_method(uniform))
    assert path.abs().max() < 1  # lerp stays inside the cube (−1, 1)^d


def test_run_generate_is_run_sample_from_its_latents_and_checks_z(digits):
    assert torch.equal(digits.generate(digits.latents(5, 8)), digits.sample(5, 8))
    with pytest.raises(
        ConfigError,
        match=r"z must be floating-point vectors \(n, 100\), got torch.float32 \(2, 7\)",
    ):
        digits.generate(torch.zeros(2, 7))
