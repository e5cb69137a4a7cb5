"""A history of generated images for the discriminator (Shrivastava et al. 2017).

D is updated on a mix of the generator's current and earlier outputs, so it does not
forget what G used to produce and the two players oscillate less; CycleGAN (Zhu et al.
2017, §4) keeps 50 images this way. Draws come from a CPU ``torch.Generator`` that the
Trainer checkpoints, and the pool's own state is plain tensors, so a resumed run replays
the same choices.
"""

from __future__ import annotations

import torch
from torch import Tensor


class HistoryPool:
    """Up to ``capacity`` earlier generated images, swapped in for new ones at random.

    While the pool is filling, each new image is stored and returned as it is. Once full,
    each new image is, with probability ½, swapped with a uniformly chosen stored image,
    which is returned in its place; otherwise it is returned and not stored. This is the
    per-image form CycleGAN uses (Zhu et al. 2017) of the history buffer of Shrivastava
    et al. (2017, §2.3), which fills half of each batch from the history."""

    def __init__(self, capacity: int = 50) -> None:
        if capacity < 0:
            raise ValueError(f"history pool capacity must be ≥ 0, got {capacity}")
        self.capacity = capacity
        self._images: Tensor | None = None  # (capacity, *image shape) once the first arrives
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def query(self, images: Tensor, generator: torch.Generator) -> Tensor:
        """The batch to show D, shape of ``images``, detached; updates the pool.

        A capacity of 0 returns ``images`` detached and draws nothing from ``generator``;
        so does filling, which draws only once the pool is full."""
        images = images.detach()
        if self.capacity == 0:
            return images
        if images.dim() == 0:
            raise ValueError("history pool expects a batch (B, ...), got a 0-d tensor")
        pool = self._pool_like(images)
        out = images.clone()
        for i in range(images.shape[0]):
            if self._count < self.capacity:
                pool[self._count] = images[i]
                self._count += 1
            elif torch.rand((), generator=generator).item() < 0.5:
                slot = int(torch.randint(self.capacity, (), generator=generator))
                out[i] = pool[slot]
                pool[slot] = images[i]
        return out

    def state_dict(self) -> dict[str, Tensor]:
        """``capacity`` (0-d int64) and the stored ``images`` (count, ...) in slot order;
        an empty pool stores ``images`` of shape (0,)."""
        stored = torch.empty(0) if self._images is None else self._images[: self._count]
        return {
            "capacity": torch.tensor(self.capacity, dtype=torch.int64),
            "images": stored.clone(),
        }

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore the pool from :meth:`state_dict`; images move to the device and dtype of
        the next batch queried."""
        if set(state) != {"capacity", "images"}:
            raise ValueError(
                f"history pool state needs keys ['capacity', 'images'], got {sorted(state)}"
            )
        capacity, images = state["capacity"], state["images"]
        if capacity.numel() != 1 or int(capacity) != self.capacity:
            raise ValueError(
                f"history pool state is for capacity {capacity.tolist()}, "
                f"this pool has capacity {self.capacity}"
            )
        if images.dim() == 0 or images.shape[0] > self.capacity:
            raise ValueError(
                f"history pool state has images of shape {tuple(images.shape)}; expected "
                f"(count, ...) with count ≤ capacity {self.capacity}"
            )
        self._count = images.shape[0]
        if self._count == 0:
            self._images = None
            return
        self._images = images.new_empty((self.capacity, *images.shape[1:]))
        self._images[: self._count] = images

    def _pool_like(self, images: Tensor) -> Tensor:
        """The storage, allocated or moved to match the batch's device and dtype."""
        if self._images is None:
            self._images = images.new_empty((self.capacity, *images.shape[1:]))
        elif self._images.shape[1:] != images.shape[1:]:
            raise ValueError(
                f"history pool holds images of shape {tuple(self._images.shape[1:])}, "
                f"got a batch of shape {tuple(images.shape)}"
            )
        self._images = self._images.to(device=images.device, dtype=images.dtype)
        return self._images
