"""Optimisers for G and D, each chosen by name with its own validated options."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from gankit.registry import Registry

OPTIMIZERS: Registry = Registry("optimizer")


class OptimizerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    lr: float = Field(2e-4, gt=0, description="Learning rate.")
    weight_decay: float = Field(0.0, ge=0, description="L2 weight decay.")


class AdamOptions(OptimizerOptions):
    name: Literal["adam"] = "adam"
    betas: tuple[float, float] = Field(
        (0.5, 0.999), description="(β1, β2); DCGAN uses β1 = 0.5 (Radford et al. 2016)."
    )
    eps: float = Field(1e-8, gt=0, description="Denominator term ε.")


class RMSpropOptions(OptimizerOptions):
    name: Literal["rmsprop"] = "rmsprop"
    alpha: float = Field(0.99, gt=0, lt=1, description="Smoothing constant of the square average.")
    eps: float = Field(1e-8, gt=0, description="Denominator term ε.")
    momentum: float = Field(0.0, ge=0, lt=1, description="Momentum factor.")


class SGDOptions(OptimizerOptions):
    name: Literal["sgd"] = "sgd"
    momentum: float = Field(0.0, ge=0, lt=1, description="Momentum factor.")
    nesterov: bool = Field(False, description="Nesterov momentum (needs momentum > 0).")


Params = Iterable[torch.nn.Parameter]


@OPTIMIZERS.register("adam", options=AdamOptions)
def adam(params: Params, o: AdamOptions) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015)."""
    return torch.optim.Adam(params, lr=o.lr, betas=o.betas, eps=o.eps, weight_decay=o.weight_decay)


@OPTIMIZERS.register("rmsprop", options=RMSpropOptions)
def rmsprop(params: Params, o: RMSpropOptions) -> torch.optim.Optimizer:
    """RMSProp (Tieleman & Hinton 2012); WGAN's choice (Arjovsky et al. 2017)."""
    return torch.optim.RMSprop(
        params,
        lr=o.lr,
        alpha=o.alpha,
        eps=o.eps,
        momentum=o.momentum,
        weight_decay=o.weight_decay,
    )


@OPTIMIZERS.register("sgd", options=SGDOptions)
def sgd(params: Params, o: SGDOptions) -> torch.optim.Optimizer:
    """Stochastic gradient descent with optional (Nesterov) momentum."""
    return torch.optim.SGD(
        params, lr=o.lr, momentum=o.momentum, nesterov=o.nesterov, weight_decay=o.weight_decay
    )


def build_optimizer(params: Params, options: OptimizerOptions) -> torch.optim.Optimizer:
    """The optimiser named by ``options.name`` over ``params``."""
    return OPTIMIZERS.get(options.name)(params, options)


def grad_norm(*modules: torch.nn.Module | None) -> torch.Tensor:
    """‖∇θ‖₂ over every parameter of ``modules`` (None skipped) that has a gradient."""
    grads = [
        p.grad
        for module in modules
        if module is not None
        for p in module.parameters()
        if p.grad is not None
    ]
    return torch.nn.utils.get_total_norm(grads).detach()
