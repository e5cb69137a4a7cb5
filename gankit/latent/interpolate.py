"""Paths through a run's latent space and what its generator makes along them.

A path runs from z₀ to z₁ through ``steps`` points at t = 0, 1/(steps − 1), …, 1, ends
included, by one of two rules:

* lerp (linear): z(t) = (1 − t)·z₀ + t·z₁;
* slerp (spherical; Shoemake 1985, "Animating rotation with quaternion curves", SIGGRAPH,
  for unit quaternions; White 2016, "Sampling generative networks", for latent vectors):

      z(t) = sin((1 − t)Ω)/sin Ω · z₀ + sin(tΩ)/sin Ω · z₁,   cos Ω = z₀·z₁ / (‖z₀‖‖z₁‖),

  the arc of the great circle through both directions; when ‖z₀‖ = ‖z₁‖ every point keeps
  that norm. Where sin Ω < 1e-6 (parallel or opposite vectors) it is lerp.

slerp is the default for a normal prior: nearly all of N(0, I_d)'s mass lies near the sphere
of radius √d, while the lerp midpoint of two independent draws has norm about √(d/2), a z
the generator seldom saw. lerp is the default for a uniform prior: the cube (−1, 1)^d is
convex, so every point of a lerp path stays inside, which slerp does not promise.

The ends of a path are exact: z(0) = z₀ and z(1) = z₁ bit for bit, so the first and last
images of a path are what :meth:`gankit.api.Run.sample` makes of those z (identical when
computed in the same batch; the CPU kernels differ by ~1e-7 between batch sizes).

Where the ends come from (:func:`random_endpoints`, :func:`seed_endpoints`,
:func:`keypoint_endpoints`): pairs of z from one seed, the z of ``gankit sample --seed A
-n 1`` and ``--seed B``, or key points z₀, z₁, …, z_m read from ``.npy`` files (such as the z
``gankit project`` writes), path i running from zᵢ to zᵢ₊₁.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from gankit.api import Run
from gankit.config import ConfigError
from gankit.errors import GankitError
from gankit.files import OutputError, write_atomic
from gankit.viz import image_grid, new_figure, save_figure, save_picture

METHODS = ("slerp", "lerp")
PICTURES = (".png", ".jpg", ".jpeg")
ANIMATIONS = (".gif",)
DEFAULT_STEPS = {"picture": 8, "animation": 32}
PARALLEL = 1e-6
"""sin Ω below which slerp falls back to lerp."""
_REAL_POINTS = 2000


def lerp(z0: Tensor, z1: Tensor, t: Tensor) -> Tensor:
    """(1 − t)·z₀ + t·z₁ for ends ``(P, d)`` and ``t`` ``(T,)`` → ``(P, T, d)``, computed in
    float64 and returned in ``z0``'s dtype."""
    a, b, t = _as_float64(z0, z1, t)
    return ((1 - t) * a + t * b).to(z0.dtype)


def slerp(z0: Tensor, z1: Tensor, t: Tensor) -> Tensor:
    """Shoemake's spherical interpolation sin((1 − t)Ω)/sin Ω · z₀ + sin(tΩ)/sin Ω · z₁ for
    ends ``(P, d)`` and ``t`` ``(T,)`` → ``(P, T, d)``; lerp for the paths whose
    sin Ω < :data:`PARALLEL`. float64 inside, ``z0``'s dtype out."""
    a, b, t = _as_float64(z0, z1, t)
    cosine = torch.nn.functional.cosine_similarity(a, b, dim=-1).clamp(-1, 1)[..., None]
    omega = torch.arccos(cosine)
    sine = torch.sin(omega)
    arc = sine >= PARALLEL
    safe = torch.where(arc, sine, torch.ones_like(sine))
    first = torch.where(arc, torch.sin((1 - t) * omega) / safe, 1 - t)
    second = torch.where(arc, torch.sin(t * omega) / safe, t)
    return (first * a + second * b).to(z0.dtype)


def _as_float64(z0: Tensor, z1: Tensor, t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    if z0.shape != z1.shape or z0.ndim != 2:
        raise ValueError(f"ends must both be (P, d), got {tuple(z0.shape)} and {tuple(z1.shape)}")
    return z0.double()[:, None, :], z1.double()[:, None, :], t.double()[None, :, None]


def default_method(run: Run) -> str:
    """slerp for a normal prior, lerp for a uniform one."""
    return "slerp" if run.config.noise.distribution == "normal" else "lerp"


def latent_path(z0: Tensor, z1: Tensor, steps: int, method: str = "slerp") -> Tensor:
    """The points ``(P, steps, d)`` of the paths from each row of ``z0`` to the same row of
    ``z1`` at t = i/(steps − 1), i = 0 … steps − 1."""
    if method not in METHODS:
        raise ConfigError(f"unknown interpolation '{method}'; choose {' or '.join(METHODS)}")
    if steps < 2:
        raise ConfigError(f"a path needs at least 2 steps (its two ends), got {steps}")
    t = torch.arange(steps, dtype=torch.float64) / (steps - 1)
    return (slerp if method == "slerp" else lerp)(z0, z1, t)


def random_endpoints(
    run: Run, paths: int = 4, seed: int = 0, truncation: float | None = None
) -> tuple[Tensor, Tensor]:
    """Ends of ``paths`` paths: z = ``run.latents(2·paths, seed, truncation)``, path i from
    z[2i] to z[2i + 1], so with 2 steps the images are ``run.sample(2·paths, seed)``."""
    if paths < 1:
        raise ConfigError(f"the number of paths must be at least 1, got {paths}")
    z = run.latents(2 * paths, seed, truncation)
    return z[0::2], z[1::2]


def seed_endpoints(
    run: Run, from_seed: int, to_seed: int, truncation: float | None = None
) -> tuple[Tensor, Tensor]:
    """The ends of one path: the z of ``gankit sample --seed from_seed -n 1`` and of
    ``--seed to_seed`` (``run.latents(1, seed, truncation)``)."""
    return run.latents(1, from_seed, truncation), run.latents(1, to_seed, truncation)


def keypoint_endpoints(z: Tensor) -> tuple[Tensor, Tensor]:
    """Key points z₀ … z_m ``(m + 1, d)`` as the ends of m paths, zᵢ → zᵢ₊₁."""
    if z.ndim != 2 or len(z) < 2:
        raise ConfigError(f"give at least 2 key points (k, d), got shape {tuple(z.shape)}")
    return z[:-1], z[1:]


def read_latents(run: Run, files: Sequence[str | Path]) -> Tensor:
    """The z vectors of ``.npy`` files, each ``(d,)`` or ``(k, d)`` with d = the run's
    noise.dim, joined in order into ``(K, d)`` float32."""
    dim = run.config.noise.dim
    rows = []
    for name in files:
        path = Path(name).expanduser()
        if path.suffix.lower() != ".npy":
            raise ConfigError(f"{path}: z vectors are read from .npy files")
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ConfigError(f"{path}: cannot read z vectors ({err})") from None
        array = array[None] if array.ndim == 1 else array
        if array.ndim != 2 or array.shape[1] != dim or not np.issubdtype(array.dtype, np.number):
            raise ConfigError(
                f"{path}: expected z of shape (k, {dim}) or ({dim},) for this run's "
                f"noise.dim={dim}, got {array.dtype} {array.shape}"
            )
        if not np.isfinite(array).all():
            raise ConfigError(f"{path}: z holds NaN or infinite values")
        rows.append(torch.from_numpy(array.astype(np.float32)))
    return torch.cat(rows)


def row_labels(run: Run, paths: int, label: int | str | None) -> Tensor | None:
    """The class of each row of :func:`interpolate`'s result: None for an unconditional
    run; for a conditional run ``label`` on every path's one row, or, without it, every
    class 0 … K − 1 in turn on each path's K rows."""
    if not run.classes:
        run.labels_for(1, label)  # refuses a label
        return None
    if label is not None:
        return run.labels_for(paths, label)
    return torch.arange(run.classes).repeat(paths)


def interpolate(
    run: Run,
    start: Tensor,
    end: Tensor,
    steps: int = 8,
    method: str | None = None,
    label: int | str | None = None,
) -> Tensor:
    """What the run's sampler makes along the paths from each row of ``start`` ``(P, d)``
    to the same row of ``end``: ``(rows, steps, *shape)`` with one row per path, or, for a
    conditional run without ``label``, one row per class along each path's z (path-major:
    path 0's classes 0 … K − 1, then path 1's). ``method`` defaults to
    :func:`default_method`. Batches of ``run.sample_batch_size()`` samples."""
    z = latent_path(start, end, steps, method or default_method(run))  # (P, S, d)
    labels = row_labels(run, len(z), label)
    per_path = len(labels) // len(z) if labels is not None else 1
    rows = z.repeat_interleave(per_path, dim=0)  # (R, S, d), R = P·per_path
    flat = rows.reshape(-1, z.shape[-1])
    flat_labels = None if labels is None else labels.repeat_interleave(steps)
    size = run.sample_batch_size()
    images = torch.cat(
        [
            run.generate(
                flat[i : i + size], None if flat_labels is None else flat_labels[i : i + size]
            )
            for i in range(0, len(flat), size)
        ]
    )
    return images.reshape(len(rows), steps, *images.shape[1:])


def output_kind(path: str | Path) -> str:
    """What ``path`` asks for: a "picture" (.png, .jpg, .jpeg: a grid) or an "animation"
    (.gif); anything else is refused."""
    suffix = Path(path).suffix.lower()
    if suffix in PICTURES:
        return "picture"
    if suffix in ANIMATIONS:
        return "animation"
    shown = repr(suffix) if suffix else "a file without an extension"
    raise OutputError(
        f"{path}: cannot write an interpolation as {shown}; name a .png, .jpg or .jpeg file "
        "(a grid) or a .gif file (an animation)"
    )


def save_grid(images: Tensor, path: str | Path) -> Path:
    """Image paths ``(rows, steps, C, H, W)`` as one grid: a row per path, a column per
    step (:func:`gankit.viz.image_grid`'s pixels)."""
    rows, steps = images.shape[:2]
    return save_picture(image_grid(images.reshape(rows * steps, *images.shape[2:]), steps), path)


def animation_frames(images: Tensor, columns: int | None = None, bounce: bool = False) -> list:
    """The frames of :func:`save_animation` as uint8 arrays ``(H', W', C)``: frame t tiles
    step t of every row, ``columns`` tiles per line (default ⌈√rows⌉); ``bounce`` appends
    the way back (steps − 2 more frames), so the loop has no jump."""
    steps = images.shape[1]
    order = list(range(steps)) + (list(range(steps - 2, 0, -1)) if bounce else [])
    return [image_grid(images[:, t], columns) for t in order]


def save_animation(
    images: Tensor,
    path: str | Path,
    fps: float = 12.0,
    columns: int | None = None,
    bounce: bool = False,
) -> Path:
    """Image paths ``(rows, steps, C, H, W)`` as a looping GIF (Pillow) of
    :func:`animation_frames` at ``fps`` frames per second (GIF counts time in hundredths
    of a second). RGB frames are reduced to a 256-colour palette each; grey ones are
    exact."""
    check_fps(fps)
    frames = [
        Image.fromarray(f[:, :, 0] if f.shape[2] == 1 else f)
        for f in animation_frames(images, columns, bounce)
    ]
    duration = max(10, round(1000 / fps / 10) * 10)

    def write(handle) -> None:
        frames[0].save(
            handle,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=duration,
            loop=0,
            optimize=False,
        )

    return write_atomic(path, write)


def check_fps(fps: float) -> None:
    """Refuse a frame rate a GIF cannot hold: above 0 and at most 100 (its clock counts
    hundredths of a second)."""
    if not 0 < fps <= 100:
        raise ConfigError(f"fps must be above 0 and at most 100 (GIF's limit), got {fps}")


def plot_paths(run: Run, points: Tensor, path: str | Path) -> Path:
    """Paths of a run on points ``(rows, steps, d)``: each a line from its start (circle)
    to its end (square); d = 1 against the step, d ≥ 2 in the first two coordinates over
    real samples of the run's data (when it can be built)."""
    figure = new_figure()
    axes = figure.add_subplot()
    rows, steps, dim = points.shape
    title = f"{run.path.name} step {run.step}: {rows} path(s), circle → square"
    if dim == 1:
        axes.set_xlabel("step")
        axes.set_ylabel("x")
    else:
        try:
            real = run.source.sample(_REAL_POINTS, torch.Generator().manual_seed(0)).cpu()
            axes.scatter(*real[:, :2].float().T, s=3, color="0.7", linewidths=0, label="real")
            axes.legend(loc="upper right", fontsize="small")
        except GankitError:
            title += " (real data unavailable)"
        axes.set_aspect("equal", adjustable="datalim")
    for row in range(rows):
        line = points[row].float()
        x, y = (torch.arange(steps), line[:, 0]) if dim == 1 else (line[:, 0], line[:, 1])
        (drawn,) = axes.plot(x, y, "-", marker=".", linewidth=1)
        axes.plot(x[:1], y[:1], "o", color=drawn.get_color())
        axes.plot(x[-1:], y[-1:], "s", color=drawn.get_color())
    axes.set_title(title, fontsize="small")
    return save_figure(figure, path)


def grid_columns(run: Run, label: int | str | None, rows: int) -> int:
    """Tiles per line of an animation frame: one line per path (its K classes) for a
    conditional run without ``label``, else ⌈√rows⌉."""
    return run.classes if run.classes and label is None else math.ceil(math.sqrt(rows))
