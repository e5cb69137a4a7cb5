"""The Fréchet distance between Gaussians fitted to two feature sets (FID).

Between N(μ₁, Σ₁) and N(μ₂, Σ₂) the squared Fréchet (2-Wasserstein) distance is

    d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})

(Fréchet, 1957; Dowson & Landau, 1982). On Inception-v3 pool features of real and generated
images it is the Fréchet Inception Distance (Heusel et al., 2017); here it applies to the
features of any network.

The trace term is usually written tr((Σ₁Σ₂)^{1/2}) and computed with
``scipy.linalg.sqrtm(Σ₁ @ Σ₂)``. The product of two symmetric matrices is not symmetric, so
its square root found by a Schur decomposition often comes back complex from rounding alone,
and for singular covariances, as when there are fewer samples than dimensions, the product
may have no square root at all (SciPy then warns and returns an inaccurate one). Yet
Σ₁Σ₂ = Σ₁^{1/2}·(Σ₁^{1/2}Σ₂) has the same eigenvalues as (Σ₁^{1/2}Σ₂)·Σ₁^{1/2} = M, which is
symmetric positive semi-definite, so the eigenvalues λᵢ are ≥ 0 and
tr((Σ₁Σ₂)^{1/2}) = Σᵢ √λᵢ. :func:`frechet_distance` therefore takes two symmetric
eigendecompositions in float64: Σ₁ = V diag(w) Vᵀ gives Σ₁^{1/2} = V diag(√max(w, 0)) Vᵀ,
then the eigenvalues of M, clipped at 0 against rounding, give the trace. Both steps are
stable for singular and ill-conditioned covariances.

:func:`as_features` is the input check shared by the sample-quality metrics of
:mod:`gankit.metrics`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

ArrayLike = Tensor | np.ndarray


def as_features(features: ArrayLike, name: str = "features", min_samples: int = 1) -> Tensor:
    """``features`` as a float64 tensor (n, d), checked to be 2-D, to hold at least
    ``min_samples`` rows and at least one dimension, and to be finite."""
    if isinstance(features, Tensor):
        tensor = features.detach()
    else:
        tensor = torch.as_tensor(np.asarray(features))
    if tensor.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n, d), got shape {tuple(tensor.shape)}"
        )
    if tensor.shape[1] < 1:
        raise ValueError(f"{name} must have at least one feature dimension, got shape (n, 0)")
    if tensor.shape[0] < min_samples:
        noun = "sample" if min_samples == 1 else "samples"
        raise ValueError(f"{name} needs at least {min_samples} {noun}, got {tensor.shape[0]}")
    tensor = tensor.to(torch.float64)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return tensor


def check_same_dimension(a: Tensor, b: Tensor, names: str) -> None:
    """Raise ``ValueError`` unless the (n, d) feature sets ``a`` and ``b`` share d."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{names} must have the same feature dimension, got {a.shape[1]} and {b.shape[1]}"
        )


def feature_statistics(features: ArrayLike) -> tuple[Tensor, Tensor]:
    """Mean (d,) and unbiased covariance (d, d) of ``features`` (n, d), n ≥ 2, in float64:
    Σ = (1/(n − 1)) Σᵢ (xᵢ − μ)(xᵢ − μ)ᵀ."""
    x = as_features(features, "features", min_samples=2)
    mean = x.mean(dim=0)
    centred = x - mean
    covariance = centred.T @ centred / (len(x) - 1)
    return mean, covariance


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Squared Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂):
    ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}) (Fréchet, 1957; Dowson &
    Landau, 1982), the FID of Heusel et al. (2017) on Inception features.

    The trace term comes from symmetric eigendecompositions (see the module docstring), so
    singular covariances are fine. The covariances are symmetrised as (Σ + Σᵀ)/2 and the
    result is clipped at 0 against rounding."""
    mu1, mu2 = _as_mean(mu1, "mu1"), _as_mean(mu2, "mu2")
    sigma1, sigma2 = _as_covariance(sigma1, "sigma1"), _as_covariance(sigma2, "sigma2")
    dims = {"mu1": len(mu1), "sigma1": len(sigma1), "mu2": len(mu2), "sigma2": len(sigma2)}
    if len(set(dims.values())) != 1:
        sizes = ", ".join(f"{name} {size}" for name, size in dims.items())
        raise ValueError(f"means and covariances must share one dimension d, got {sizes}")
    sigma1, sigma2 = sigma1.to(mu1.device), sigma2.to(mu1.device)
    mu2 = mu2.to(mu1.device)
    trace_sqrt = _trace_sqrt_product(sigma1, sigma2)
    difference = mu1 - mu2
    value = difference @ difference + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt
    return max(float(value), 0.0)


def frechet_distance_features(a: ArrayLike, b: ArrayLike) -> float:
    """:func:`frechet_distance` between Gaussians fitted to feature sets ``a`` and ``b``
    (n, d), each with n ≥ 2, by :func:`feature_statistics`."""
    a = as_features(a, "a", min_samples=2)
    b = as_features(b, "b", min_samples=2)
    check_same_dimension(a, b, "a and b")
    return frechet_distance(*feature_statistics(a), *feature_statistics(b))


def _trace_sqrt_product(sigma1: Tensor, sigma2: Tensor) -> Tensor:
    """tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}) = Σᵢ √λᵢ over the eigenvalues of that symmetric
    positive semi-definite matrix, negative rounding clipped at 0 at both steps."""
    eigenvalues, eigenvectors = torch.linalg.eigh(sigma1)
    root1 = (eigenvectors * eigenvalues.clamp(min=0).sqrt()) @ eigenvectors.T
    middle = root1 @ sigma2 @ root1
    middle = (middle + middle.T) / 2
    return torch.linalg.eigvalsh(middle).clamp(min=0).sqrt().sum()


def _as_mean(mean: ArrayLike, name: str) -> Tensor:
    """A finite float64 vector (d,)."""
    tensor = mean.detach() if isinstance(mean, Tensor) else torch.as_tensor(np.asarray(mean))
    if tensor.ndim != 1:
        raise ValueError(f"{name} must be a vector of shape (d,), got shape {tuple(tensor.shape)}")
    tensor = tensor.to(torch.float64)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return tensor


def _as_covariance(covariance: ArrayLike, name: str) -> Tensor:
    """A finite float64 square matrix (d, d), symmetrised as (Σ + Σᵀ)/2."""
    if isinstance(covariance, Tensor):
        tensor = covariance.detach()
    else:
        tensor = torch.as_tensor(np.asarray(covariance))
    if tensor.ndim != 2 or tensor.shape[0] != tensor.shape[1]:
        raise ValueError(
            f"{name} must be a square matrix of shape (d, d), got shape {tuple(tensor.shape)}"
        )
    tensor = tensor.to(torch.float64)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return (tensor + tensor.T) / 2
