import math
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data.base import DataSource
from gankit.viz import image_grid, plot_points, save_image_grid, save_samples

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Gaussian(DataSource):
    """Standard normal in R^d with a density; counts the draws it is asked for."""

    kind = "points"

    def __init__(self, dim: int, density: bool = True) -> None:
        self.shape = (dim,)
        self._density = density
        self.calls = 0

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        self.calls += 1
        return torch.randn(n, *self.shape, generator=generator)

    @property
    def has_density(self) -> bool:
        return self._density

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        if not self._density:
            return super().log_prob(x)
        return (-0.5 * x.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)


class Images(DataSource):
    kind = "images"
    shape = (1, 4, 4)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.rand(n, *self.shape, generator=generator) * 2 - 1


def _constant_images(values: list[float], channels: int = 1, size: int = 3) -> torch.Tensor:
    return torch.tensor(values).view(-1, 1, 1, 1).expand(-1, channels, size, size).clone()


def test_grid_layout_and_pixel_values():
    # 4 images of 3×3, 2 per row, padding 2 → 2·(3+2)+2 = 12 pixels each way.
    grid = image_grid(_constant_images([-1.0, 0.0, 0.5, 1.0]), padding=2)
    assert grid.dtype == np.uint8
    assert grid.shape == (12, 12, 1)
    tiles = {(0, 0): 0, (0, 1): 128, (1, 0): 191, (1, 1): 255}  # round((x+1)·127.5)
    mask = np.zeros((12, 12), dtype=bool)
    for (row, col), value in tiles.items():
        top, left = 2 + row * 5, 2 + col * 5
        np.testing.assert_array_equal(grid[top : top + 3, left : left + 3, 0], value)
        mask[top : top + 3, left : left + 3] = True
    assert (grid[~mask] == 0).all()  # the padding
    assert (~mask).sum() == 144 - 4 * 9


def test_grid_rgb_partial_last_row_and_clamping():
    images = torch.stack(
        [
            torch.tensor([-1.0, 0.0, 1.0]).view(3, 1, 1).expand(3, 2, 2),
            torch.full((3, 2, 2), 5.0),  # clamped to 255
            torch.full((3, 2, 2), float("nan")),  # shown as 0
        ]
    )
    grid = image_grid(images, nrow=2, padding=1)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1, 3)
    np.testing.assert_array_equal(grid[1, 1], [0, 128, 255])
    np.testing.assert_array_equal(grid[2, 5], [255, 255, 255])
    np.testing.assert_array_equal(grid[4:6, 1:3], 0)  # the NaN image
    np.testing.assert_array_equal(grid[4:6, 4:6], 0)  # the empty fourth tile
    assert int(grid.sum()) == 4 * (0 + 128 + 255) + 4 * 3 * 255


def test_grid_default_nrow_is_ceil_sqrt():
    grid = image_grid(torch.zeros(5, 1, 2, 2), padding=0)
    assert grid.shape == (2 * 2, 3 * 2, 1)  # ceil(√5) = 3 per row, 2 rows
    assert image_grid(torch.zeros(1, 3, 2, 2), padding=0).shape == (2, 2, 3)


@pytest.mark.parametrize("shape", [(2, 2, 4, 4), (3, 4, 4), (0, 1, 4, 4)])
def test_grid_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="image_grid needs images"):
        image_grid(torch.zeros(shape))


@pytest.mark.parametrize(("channels", "mode"), [(1, "L"), (3, "RGB")])
def test_save_image_grid_modes_and_no_temp_files(tmp_path, channels, mode):
    path = save_image_grid(_constant_images([0.5] * 6, channels), tmp_path / "a" / "b" / "g.png")
    assert path == tmp_path / "a" / "b" / "g.png"
    with Image.open(path) as picture:
        assert picture.mode == mode
        assert picture.size == (3 * 5 + 2, 2 * 5 + 2)  # (W, H): 3 per row, 2 rows
        pixels = np.asarray(picture)
    assert pixels.reshape(12, 17, channels)[2, 2].tolist() == [191] * channels
    assert sorted(p.name for p in path.parent.iterdir()) == ["g.png"]


def test_save_overwrites_and_a_failed_write_leaves_the_old_file(tmp_path):
    path = save_image_grid(torch.zeros(1, 1, 2, 2), tmp_path / "g.png")
    old = path.read_bytes()
    with pytest.raises(ValueError):
        save_image_grid(torch.zeros(1, 2, 2, 2), path)
    assert path.read_bytes() == old
    save_image_grid(torch.ones(1, 1, 2, 2), path)
    assert path.read_bytes() != old
    assert [p.name for p in tmp_path.iterdir()] == ["g.png"]


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("density", [True, False])
def test_plot_points_with_a_source(tmp_path, dim, density):
    source = Gaussian(dim, density)
    samples = torch.randn(300, dim, generator=torch.Generator().manual_seed(1)) + 0.5
    path = plot_points(samples, source, tmp_path / "p" / "points.png", title="step 10")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 5000
    with Image.open(path) as picture:
        assert picture.size == (500, 450)
    assert sorted(p.name for p in path.parent.iterdir()) == ["points.png"]
    assert source.calls == 1


def test_plot_points_does_not_touch_global_randomness(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    plot_points(torch.zeros(10, 2), Gaussian(2), tmp_path / "p.png")
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_plot_points_without_a_source_and_with_outliers(tmp_path, dim):
    samples = torch.randn(200, dim)
    samples[:5] = 1e6
    samples[5] = float("nan")
    path = plot_points(samples, None, tmp_path / "p.png")
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_plot_points_rejects_mismatched_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"do not match the source's shape \(2,\)"):
        plot_points(torch.zeros(4, 1), Gaussian(2), tmp_path / "p.png")
    with pytest.raises(ValueError, match="plot_points needs points"):
        plot_points(torch.zeros(4, 1, 2), None, tmp_path / "p.png")
    assert list(tmp_path.iterdir()) == []


def test_save_samples_dispatches(tmp_path):
    image_path = save_samples(torch.zeros(4, 1, 4, 4), Images(), tmp_path / "i.png")
    with Image.open(image_path) as picture:
        assert picture.mode == "L"
        assert picture.size == (14, 14)  # the grid, not a matplotlib figure
    point_path = save_samples(torch.zeros(8, 2), Gaussian(2), tmp_path / "p.png")
    with Image.open(point_path) as picture:
        assert picture.size == (500, 450)


def test_plots_from_threads(tmp_path):
    errors: list[BaseException] = []

    def draw(i: int) -> None:
        try:
            plot_points(torch.randn(50, 2), Gaussian(2), tmp_path / f"{i}.png", title=str(i))
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.png", "1.png", "2.png"]
