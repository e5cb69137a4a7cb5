"""GAN inversion: the z whose image is nearest to a given image (``gankit project``).

z* = argmin_z ‖G(z) − x‖² / (C·H·W), found by gradient descent through the frozen sampler
(Zhu et al. 2016, "Generative visual manipulation on the natural image manifold"; Creswell
& Bharath 2018, "Inverting the generator of a generative adversarial network") with Adam,
from ``restarts`` starting points drawn from the prior (``seed``), all optimised at once
as one batch (the sampler in eval mode, so the starts do not interact); the best final
reconstruction wins. A conditional run without ``label`` runs the restarts for every class
and reports the class it found.

z stays within the prior by construction:

* normal prior: z = √d · u/‖u‖, on the sphere of radius √d, where nearly all of N(0, I_d)'s
  mass lies (‖z‖ = √d ± 1/√2 for large d; PULSE, Menon et al. 2020, searches it the
  same way), so the search cannot walk off to norms the generator never saw;
* uniform prior: z = tanh(u), inside (−1, 1)^d.

With ``noise``, the images G cannot make exactly get learnable additive noise maps on G's
intermediate activations (per-layer noise as in StyleGAN, Karras et al. 2019, optimised as
in Image2StyleGAN++, Abdal et al. 2020): one map n_l, starting at 0, of the shape of the
output of every layer that makes a new feature map smaller than the image (a leaf module
whose 4-D output differs in shape from its input: a reshape to a map, a convolution, an
up-sampling), added to it by a forward hook while optimising, with
``noise_weight`` · Σ_l mean(n_l²) added to the loss. The reconstruction then needs the maps
as well as z; the layers at the image's own size get none, so they cannot paint the
target in.

Reported: MSE = mean (G(z*) − x)² over pixels in the data range [−1, 1] and PSNR =
10·log10(2²/MSE) dB (the range's peak-to-peak value 2, which is
:func:`gankit.metrics.translation.psnr`), beside the MSE of random samples to the same
target for scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gankit.api import Run
from gankit.config import ConfigError
from gankit.data import DataError
from gankit.data.images import IMAGE_EXTENSIONS, load_image, read_image
from gankit.files import OutputError, write_atomic, write_json_atomic
from gankit.latent.kinds import image_shape
from gankit.metrics.translation import psnr
from gankit.nets.modes import evaluating
from gankit.viz import image_grid, save_picture

RANDOM_SAMPLES = 16
"""Random samples whose mean MSE to the target is reported for scale."""


@dataclass(frozen=True)
class Projection:
    """The outcome of :func:`project`."""

    target: Tensor
    """The image projected, (C, H, W) in [−1, 1]."""
    image: Tensor
    """The reconstruction G(z) (with the noise maps, when optimised), (C, H, W)."""
    z: Tensor
    """(d,) float32: ``run.generate(z[None], label)`` is the reconstruction without noise."""
    label: int | None
    mse: float
    psnr: float
    """dB; inf for an exact reconstruction."""
    random_mse: float
    """Mean MSE of :data:`RANDOM_SAMPLES` random samples to the target."""
    restart_mse: Tensor
    """Final MSE of every start (restarts, or restarts × classes)."""
    noise: dict[str, Tensor] = field(default_factory=dict)
    """The optimised noise map of each layer (by module name); empty without ``noise``."""


def read_target(run: Run, path: str | Path) -> tuple[Tensor, list[str]]:
    """The image file ``path`` as a target ``(C, H, W)`` in [−1, 1] for an image run, and
    warnings: a non-square image is centre-cropped and any other size resized (bilinear,
    antialiased) to the run's. A colour image for a run of grey images is refused; a grey
    image for an RGB run is taken as the RGB image it is."""
    path = Path(path).expanduser()
    channels, _, size = image_shape(run, "projection needs an image run")
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise DataError(f"{path}: project a {', '.join(IMAGE_EXTENSIONS)} image")
    if not path.is_file():
        raise DataError(f"{path}: no such image file")
    colour = read_image(path, "RGB")  # (3, h, w)
    if channels == 1 and not (
        torch.equal(colour[0], colour[1]) and torch.equal(colour[0], colour[2])
    ):
        raise DataError(
            f"{path} is a colour image and {run.path} generates grey images; convert it to "
            "grey first"
        )
    notes = []
    height, width = colour.shape[1:]
    if (height, width) != (size, size):
        crop = " (centre-cropped to a square)" if height != width else ""
        notes.append(f"resized {path.name} from {width}×{height} to the run's {size}×{size}{crop}")
    pixels = load_image(path, "L" if channels == 1 else "RGB", size, "center")
    return pixels.float().div(127.5).sub(1.0), notes


def _latent(run: Run, u: Tensor) -> Tensor:
    """The prior-bound z of free parameters u (see the module's docstring)."""
    if run.config.noise.distribution == "uniform":
        return torch.tanh(u)
    return u * (math.sqrt(u.shape[1]) / u.norm(dim=1, keepdim=True))


def noise_layers(run: Run, z: Tensor, labels: Tensor | None) -> dict[str, tuple[int, ...]]:
    """The layers of the sampler that get a noise map, with the shape of their output for
    one sample (one probe pass on ``z[:1]``)."""
    size = run.data_info["shape"][-1]
    found: dict[str, tuple[int, ...]] = {}
    handles = []

    def probe(name: str):
        def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
            if (
                isinstance(output, Tensor)
                and output.ndim == 4
                and output.shape[-1] < size
                and inputs
                and isinstance(inputs[0], Tensor)
                and inputs[0].shape != output.shape
            ):
                found.setdefault(name, tuple(output.shape[1:]))

        return hook

    for name, module in run.sampler.named_modules():
        if not any(True for _ in module.children()):
            handles.append(module.register_forward_hook(probe(name)))
    try:
        run.generate(z[:1], None if labels is None else labels[:1])
    finally:
        for handle in handles:
            handle.remove()
    return found


@contextmanager
def _added_noise(sampler: nn.Module, maps: dict[str, Tensor]) -> Iterator[None]:
    """Add ``maps[name]`` to the output of each named module of ``sampler`` while inside."""
    modules = dict(sampler.named_modules())
    handles = [
        modules[name].register_forward_hook(lambda m, i, out, n=noise: out + n)
        for name, noise in maps.items()
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def project(
    run: Run,
    target: Tensor,
    steps: int = 500,
    restarts: int = 4,
    lr: float = 0.05,
    seed: int = 0,
    label: int | str | None = None,
    noise: bool = False,
    noise_weight: float = 1.0,
    progress: bool = False,
) -> Projection:
    """Project ``target`` ``(C, H, W)`` in [−1, 1] into the run's latent space (see the
    module's docstring): ``steps`` Adam steps of learning rate ``lr`` from ``restarts``
    starts drawn with ``seed`` (times every class for a conditional run without
    ``label``)."""
    shape = tuple(run.data_info.get("shape") or ())
    if tuple(target.shape) != shape:
        raise ConfigError(
            f"the target must have the run's shape {shape}, got {tuple(target.shape)}"
        )
    for name, value in (("steps", steps), ("restarts", restarts)):
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}")
    if not lr > 0 or not math.isfinite(lr):
        raise ConfigError(f"the learning rate must be a positive number, got {lr}")
    if not noise_weight >= 0 or not math.isfinite(noise_weight):
        raise ConfigError(f"noise_weight must be a number ≥ 0, got {noise_weight}")
    labels = None
    if run.classes:
        classes = list(range(run.classes)) if label is None else [run.class_index(label)]
        labels = run.labels_for(restarts * len(classes), classes * restarts)  # range checked
    else:
        run.labels_for(1, label)  # refuses a label
    starts = restarts if labels is None else len(labels)
    u = run.latents(starts, seed).requires_grad_(True)
    device = next(run.sampler.parameters()).device
    maps = {}
    if noise:
        layers = noise_layers(run, u.detach(), labels)
        maps = {
            n: torch.zeros(starts, *s, device=device, requires_grad=True) for n, s in layers.items()
        }
    optimiser = torch.optim.Adam([u, *maps.values()], lr=lr)
    x = target.to(device)[None]
    y = None if labels is None else labels.to(device)

    def errors() -> tuple[Tensor, Tensor]:
        """MSE of every start, and its images."""
        z = _latent(run, u).to(device)
        images = run.sampler(z) if y is None else run.sampler(z, y)
        return (images - x).square().flatten(1).mean(dim=1), images

    with evaluating(run.sampler), _added_noise(run.sampler, maps):
        for _ in tqdm(range(steps), desc="projecting", unit="step", disable=not progress):
            mse, _ = errors()
            loss = mse.sum()
            if maps:
                loss = loss + noise_weight * sum(
                    m.square().flatten(1).mean(1).sum() for m in maps.values()
                )
            parameters = [u, *maps.values()]
            for parameter, gradient in zip(
                parameters, torch.autograd.grad(loss, parameters), strict=True
            ):
                parameter.grad = gradient  # autograd.grad leaves G's own .grad untouched
            optimiser.step()
        with torch.no_grad():
            mse, images = errors()
    best = int(mse.argmin())
    image = images[best].detach().cpu()
    z = _latent(run, u.detach())[best].float()
    chosen = None if labels is None else int(labels[best])
    randoms = run.sample(RANDOM_SAMPLES, (seed + 1) % 2**63, chosen)  # other z than the starts
    return Projection(
        target=target.cpu(),
        image=image,
        z=z,
        label=chosen,
        mse=float(mse[best]),
        psnr=psnr(image[None], target.cpu()[None]),
        random_mse=float((randoms - target.cpu()).square().flatten(1).mean(1).mean()),
        restart_mse=mse.detach().cpu(),
        noise={n: m.detach()[best].cpu() for n, m in maps.items()},
    )


def output_files(output: str | Path) -> dict[str, Path]:
    """The files :func:`save_projection` writes for the picture ``output``: the picture,
    a ``.json`` report and the z ``.npy`` beside it (and ``.noise.npz`` with noise)."""
    output = Path(output).expanduser()
    if output.suffix.lower() not in IMAGE_EXTENSIONS:
        shown = repr(output.suffix) if output.suffix else "a file without an extension"
        raise OutputError(
            f"{output}: cannot write the reconstruction as {shown}; name a .png, .jpg or .jpeg file"
        )
    return {
        "image": output,
        "report": output.with_suffix(".json"),
        "z": output.with_suffix(".npy"),
        "noise": output.with_suffix(".noise.npz"),
    }


def save_projection(
    run: Run, projection: Projection, output: str | Path, record: dict[str, Any]
) -> dict[str, Path]:
    """Write the reconstruction (pixels as the sample grids map them), z ``(1, d)``
    float32 (what ``gankit interpolate --z`` reads), the noise maps when there are any, and
    a JSON report of the numbers with ``record`` (settings, input); returns what was
    written, by kind."""
    files = output_files(output)
    written = {
        "image": save_picture(image_grid(projection.image[None], nrow=1, padding=0), files["image"])
    }
    z = projection.z[None].numpy().astype(np.float32)
    written["z"] = write_atomic(files["z"], lambda handle: np.save(handle, z))
    if projection.noise:
        maps = {name: m.numpy() for name, m in projection.noise.items()}
        written["noise"] = write_atomic(files["noise"], lambda handle: np.savez(handle, **maps))
    report = {
        **record,
        "run": str(run.path),
        "checkpoint": run.checkpoint.name if run.checkpoint is not None else None,
        "step": run.step,
        "label": projection.label,
        "mse": projection.mse,
        "psnr_db": projection.psnr,
        "random_mse": projection.random_mse,
        "restart_mse": projection.restart_mse.tolist(),
        "data_range": [-1.0, 1.0],
        "files": {kind: str(path) for kind, path in written.items()},
    }
    write_json_atomic(files["report"], report)
    written["report"] = files["report"]
    return written
