"""Train/eval mode for a block of code: :func:`evaluating`.

Sampling, scoring and plotting run networks in eval mode (BatchNorm on its running
statistics, dropout off) and must leave them as they found them, in the middle of training
or after an error alike. Instead of saving ``module.training`` and restoring it in a
``finally`` at every call site::

    with evaluating(G, D):
        samples = G(z)
        scores = D(samples)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def evaluating(*modules: nn.Module | None) -> Iterator[None]:
    """Put ``modules`` (``None`` entries are skipped) in eval mode for the ``with`` block;
    on leaving it, normally or by an exception, every module and submodule gets back the
    mode it had on entry (a submodule frozen in eval mode inside a training network stays
    so)."""
    saved = {
        id(sub): (sub, sub.training)
        for module in modules
        if module is not None
        for sub in module.modules()
    }
    for module in modules:
        if module is not None:
            module.eval()
    try:
        yield
    finally:
        # parents come before their children in ``modules()``: a parent's ``train(mode)``
        # sets its whole subtree, then any child that differed is put back on its own
        for sub, training in saved.values():
            if sub.training != training:
                sub.train(training)
