import math

import pytest
import torch
from safetensors.torch import load_file, save_file

from gankit.tasks.history_pool import HistoryPool


def tagged(values, shape=(1, 2, 2)) -> torch.Tensor:
    """A batch of images, image i filled with values[i]."""
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, *shape).clone()


def tags(images: torch.Tensor) -> list[float]:
    return images[:, 0, 0, 0].tolist()


def clone_generator(generator: torch.Generator) -> torch.Generator:
    copy = torch.Generator()
    copy.set_state(generator.get_state())
    return copy


def test_returns_its_input_exactly_while_filling_and_draws_nothing():
    pool = HistoryPool(capacity=6)
    generator = torch.Generator().manual_seed(0)
    before = generator.get_state()
    for batch in ([0.0, 1.0], [2.0, 3.0, 4.0], [5.0]):
        images = tagged(batch) + torch.rand(len(batch), 1, 2, 2)
        assert torch.equal(pool.query(images, generator), images)
    assert len(pool) == 6
    assert torch.equal(generator.get_state(), before)


def test_output_is_detached_and_keeps_dtype():
    pool = HistoryPool(capacity=2)
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    out = pool.query(images * 2, generator)
    assert not out.requires_grad and out.dtype == torch.float64 and out.shape == (4, 3)
    assert pool.state_dict()["images"].dtype == torch.float64


def test_half_of_returned_images_come_from_the_pool_and_each_was_stored():
    capacity, queries = 10, 4000
    pool = HistoryPool(capacity)
    generator = torch.Generator().manual_seed(1)
    pool.query(tagged(range(capacity)), generator)  # fill with images 0 … 9
    stored = set(range(capacity))
    from_pool = 0
    for n in range(capacity, capacity + queries):
        (returned,) = tags(pool.query(tagged([n]), generator))
        if returned != n:
            from_pool += 1
            # It was in the pool, leaves it, and the new image takes its place.
            assert returned in stored
            stored.remove(returned)
            stored.add(n)
        assert set(tags(pool.state_dict()["images"])) == stored
    sd = math.sqrt(queries * 0.25)
    assert abs(from_pool - queries / 2) <= 3 * sd


def test_swaps_within_one_batch_return_images_stored_before():
    pool = HistoryPool(capacity=3)
    generator = torch.Generator().manual_seed(2)
    pool.query(tagged([0, 1, 2]), generator)
    seen = {0.0, 1.0, 2.0}
    for start in range(3, 400, 8):
        batch = list(range(start, start + 8))
        out = tags(pool.query(tagged(batch), generator))
        for n, returned in zip(batch, out, strict=True):
            assert returned == n or returned in seen
            seen.add(float(n))
        assert len(set(out)) == len(out)  # an image leaves the pool at most once


def test_state_round_trip_through_safetensors_continues_bit_identically(tmp_path):
    pool = HistoryPool(capacity=5)
    generator = torch.Generator().manual_seed(3)
    data = torch.Generator().manual_seed(4)
    for _ in range(4):
        pool.query(torch.randn(3, 2, 4, 4, generator=data), generator)
    save_file(pool.state_dict(), tmp_path / "pool.safetensors")

    restored = HistoryPool(capacity=5)
    restored.load_state_dict(load_file(tmp_path / "pool.safetensors"))
    restored_generator = clone_generator(generator)
    assert len(restored) == 5
    for _ in range(100):
        images = torch.randn(2, 2, 4, 4, generator=data)
        assert torch.equal(
            pool.query(images, generator), restored.query(images, restored_generator)
        )
    for key, value in pool.state_dict().items():
        assert torch.equal(value, restored.state_dict()[key])


def test_partial_and_empty_pools_round_trip(tmp_path):
    partial = HistoryPool(capacity=5)
    generator = torch.Generator().manual_seed(5)
    partial.query(tagged([7.0, 8.0]), generator)
    restored = HistoryPool(capacity=5)
    restored.load_state_dict(partial.state_dict())
    assert len(restored) == 2 and tags(restored.state_dict()["images"]) == [7.0, 8.0]
    # Still filling after the restore: the next images are stored after the old ones.
    assert tags(restored.query(tagged([9.0]), generator)) == [9.0]
    assert tags(restored.state_dict()["images"]) == [7.0, 8.0, 9.0]

    save_file(HistoryPool(capacity=5).state_dict(), tmp_path / "empty.safetensors")
    empty = HistoryPool(capacity=5)
    empty.query(tagged([1.0]), generator)
    empty.load_state_dict(load_file(tmp_path / "empty.safetensors"))
    assert len(empty) == 0
    assert tags(empty.query(tagged([4.0], shape=(3, 2, 2)), generator)) == [4.0]


def test_state_dict_is_a_copy():
    pool = HistoryPool(capacity=2)
    generator = torch.Generator().manual_seed(6)
    pool.query(tagged([1.0, 2.0]), generator)
    state = pool.state_dict()
    state["images"].zero_()
    assert tags(pool.state_dict()["images"]) == [1.0, 2.0]


def test_capacity_zero_passes_the_batch_through():
    pool = HistoryPool(capacity=0)
    generator = torch.Generator().manual_seed(7)
    before = generator.get_state()
    images = torch.randn(4, 3, 2, 2)
    assert torch.equal(pool.query(images, generator), images)
    assert len(pool) == 0 and torch.equal(generator.get_state(), before)
    restored = HistoryPool(capacity=0)
    restored.load_state_dict(pool.state_dict())
    assert len(restored) == 0


def test_wrong_state_raises():
    pool = HistoryPool(capacity=4)
    pool.query(tagged([1.0, 2.0]), torch.Generator().manual_seed(8))
    state = pool.state_dict()
    with pytest.raises(ValueError, match="state is for capacity 4, this pool has capacity 3"):
        HistoryPool(capacity=3).load_state_dict(state)
    with pytest.raises(
        ValueError,
        match=r"shape \(5, 1, 2, 2\); expected \(count, \.\.\.\) with count ≤ capacity 4",
    ):
        HistoryPool(capacity=4).load_state_dict({**state, "images": tagged(range(5))})
    with pytest.raises(ValueError, match=r"shape \(\)"):
        HistoryPool(capacity=4).load_state_dict({**state, "images": torch.tensor(1.0)})
    with pytest.raises(ValueError, match=r"needs keys \['capacity', 'images'\], got \['images'\]"):
        HistoryPool(capacity=4).load_state_dict({"images": state["images"]})


def test_batch_of_another_image_shape_raises():
    pool = HistoryPool(capacity=4)
    generator = torch.Generator().manual_seed(9)
    pool.query(tagged([1.0]), generator)
    with pytest.raises(
        ValueError, match=r"holds images of shape \(1, 2, 2\), got a batch of shape \(1, 3, 2, 2\)"
    ):
        pool.query(tagged([2.0], shape=(3, 2, 2)), generator)


def test_negative_capacity_raises():
    with pytest.raises(ValueError, match="capacity must be ≥ 0"):
        HistoryPool(capacity=-1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_stored_images_keep_the_batch_device_and_restore_from_cpu():
    pool = HistoryPool(capacity=2)
    generator = torch.Generator().manual_seed(10)
    images = torch.randn(6, 3, device="cuda", dtype=torch.float16)
    out = pool.query(images, generator)
    assert out.device.type == "cuda" and out.dtype == torch.float16
    assert pool.state_dict()["images"].device.type == "cuda"
    restored = HistoryPool(capacity=2)
    restored.load_state_dict({k: v.cpu() for k, v in pool.state_dict().items()})
    twin = clone_generator(generator)
    assert torch.equal(pool.query(images, generator), restored.query(images, twin))
    assert restored.state_dict()["images"].device.type == "cuda"
