"""DiffAugment and ADA as components: the paper's magnitudes, the probability p, the
controller that moves p, its state, and the config section that selects them."""

import pytest
import torch

from gankit.augment import ADA, AUGMENTS, ADAOptions, DiffAugment, DiffAugmentOptions
from gankit.augment.ada import ORDER
from gankit.config import resolve
from gankit.errors import ConfigError

SHAPE = (1, 8, 8)


def _diffaugment(**options):
    return DiffAugment(DiffAugmentOptions(**options), SHAPE, torch.device("cpu"))


def _ada(**options):
    return ADA(ADAOptions(**options), SHAPE, torch.device("cpu"))


def test_diffaugment_translation_moves_by_at_most_an_eighth_of_the_side():
    torch.manual_seed(0)
    x = torch.zeros(256, *SHAPE)
    x[:, 0, 4, 4] = 1.0  # one bright pixel in the middle
    out = _diffaugment(policy=["translation"])(x)
    where = out.flatten(1).argmax(dim=1)
    rows, cols = where // 8, where % 8
    assert (out.flatten(1).sum(dim=1) == 1).all()  # the pixel moved, nothing else came in
    assert set((rows - 4).tolist()) == {-1, 0, 1} and set((cols - 4).tolist()) == {-1, 0, 1}


def test_diffaugment_cutout_removes_a_hole_of_half_the_side():
    torch.manual_seed(0)
    out = _diffaugment(policy=["cutout"])(torch.ones(64, *SHAPE))
    holes = (out == 0).flatten(1).sum(dim=1)
    assert holes.max() == 16 and holes.min() >= 4  # 4×4, clipped at the border
    assert (holes == 16).float().mean() > 0.2


def test_diffaugment_colour_matches_the_papers_ranges():
    torch.manual_seed(0)
    x = torch.zeros(512, 3, 2, 2)
    x[:, 0] = 0.5  # a coloured image: the brightness shift is its mean change under colour
    out = _diffaugment(policy=["color"])(x)
    assert out.shape == x.shape and torch.isfinite(out).all()
    shift = out.mean(dim=(1, 2, 3)) - x.mean(dim=(1, 2, 3))  # saturation, contrast keep means
    assert shift.min() >= -0.5 and shift.max() <= 0.5 and shift.std() > 0.2


def test_diffaugment_draws_afresh_and_passes_gradients():
    x = torch.randn(8, *SHAPE, requires_grad=True)
    augment = _diffaugment()
    first, second = augment(x), augment(x)
    assert not torch.equal(first, second)
    first.square().sum().backward()
    assert x.grad is not None and (x.grad != 0).any()


def test_ada_at_p_zero_is_the_identity_and_draws_the_same_numbers():
    x = torch.randn(16, *SHAPE)
    torch.manual_seed(3)
    assert torch.equal(_ada(ops=list(ORDER))(x), x)
    after_zero = torch.rand(1)
    torch.manual_seed(3)
    _ada(initial_p=1.0, ops=list(ORDER))(x)
    assert torch.equal(torch.rand(1), after_zero)  # p never changes how many numbers are drawn


def test_ada_applies_each_augmentation_with_probability_p():
    torch.manual_seed(0)
    x = torch.randn(4000, *SHAPE)
    out = _ada(initial_p=0.3, ops=["brightness"])(x)
    changed = (out != x).flatten(1).any(dim=1).float().mean()
    assert abs(changed.item() - 0.3) < 0.03
    flipped = _ada(initial_p=1.0, ops=["xflip"])(x)
    is_flip = (flipped == x.flip(-1)).flatten(1).all(dim=1)
    is_same = (flipped == x).flatten(1).all(dim=1)
    assert (is_flip | is_same).all() and abs(is_flip.float().mean().item() - 0.5) < 0.03


def test_ada_moves_p_by_the_images_of_an_interval_over_speed_images():
    ada = _ada(target=0.6, interval=4, speed_images=1000)
    half_sure = torch.tensor([3.0, 1.0, 2.0, -1.0])  # signs average 0.5
    for _ in range(3):
        ada.observe(torch.ones(4), batch_size=4)
    assert ada.p.item() == 0.0  # nothing before the interval ends
    ada.observe(torch.ones(4), batch_size=4)
    assert ada.p.item() == pytest.approx(16 / 1000) and ada.r_t.item() == 1.0
    for _ in range(4):
        ada.observe(half_sure, batch_size=4)  # r_t = 0.5 < 0.6: p falls back
    assert ada.p.item() == pytest.approx(0.0, abs=1e-9) and ada.r_t.item() == 0.5
    for _ in range(4):
        ada.observe(-torch.ones(4), batch_size=4)
    assert ada.p.item() == 0.0  # clipped at 0
    ada.p = torch.tensor(0.995)
    for _ in range(4):
        ada.observe(torch.ones(4), batch_size=4)
    assert ada.p.item() == 1.0  # clipped at 1
    assert ada.stats().keys() == {"augment_p", "augment_rt"}


def test_ada_over_ranks_moves_p_by_the_statistics_summed_over_ranks():
    """Rank 0 sees signs averaging 1, a second rank (simulated) signs averaging 0: the
    interval's r_t is 0.5 over both, and p moves by the images of both ranks."""
    ada = _ada(target=0.4, interval=2, speed_images=1000)
    other_rank = torch.tensor([0.0, 8.0, 8.0])  # Σ sign, count, images of the other rank
    ada.sum_over_ranks = lambda totals: totals + other_rank.to(totals)
    for _ in range(2):
        ada.observe(torch.ones(4), batch_size=4)
    assert ada.r_t.item() == pytest.approx(8 / 16)
    assert ada.p.item() == pytest.approx(16 / 1000)


def test_ada_state_round_trips_mid_interval():
    ada = _ada(interval=4, speed_images=100)
    for logits in ([1.0, 2.0], [1.0, -1.0], [3.0, 3.0], [2.0, 2.0], [1.0, 1.0], [-1.0, 1.0]):
        ada.observe(torch.tensor(logits), batch_size=2)
    copy = _ada(interval=4, speed_images=100)
    copy.load_state_dict({k: v.clone() for k, v in ada.state_dict().items()})
    for one in (ada, copy):
        for _ in range(2):
            one.observe(torch.tensor([1.0, 1.0]), batch_size=2)
    assert torch.equal(ada.p, copy.p) and torch.equal(ada.r_t, copy.r_t)
    assert ada.r_t.item() == pytest.approx(6 / 8)  # signs 1, 1, 0 (−1 + 1), 1 of this interval
    fresh = _ada()
    fresh.load_state_dict({})  # a checkpoint without ADA state: keep the fresh state
    assert fresh.p.item() == 0.0


def test_ada_refuses_quarter_turns_of_oblong_images():
    with pytest.raises(ConfigError, match="rotate90 needs square images"):
        ADA(ADAOptions(), (1, 8, 6), torch.device("cpu"))
    ADA(ADAOptions(ops=["xflip", "translation"]), (1, 8, 6), torch.device("cpu"))


def test_the_registry_and_the_config_section():
    assert AUGMENTS.names() == ["ada", "diffaugment"]
    assert resolve("dcgan-digits8x8").augment is None
    config = resolve("dcgan-digits8x8", {"augment.name": "ada", "augment.speed_images": 20000})
    assert config.augment == ADAOptions(speed_images=20000)
    assert resolve(config.to_dict()) == config  # written to config.yaml and read back
    diff = resolve("dcgan-digits8x8", {"augment.name": "diffaugment"}).augment
    assert diff.policy == ["color", "translation", "cutout"]
    assert (diff.translation, diff.cutout) == (0.125, 0.5)
    assert resolve("acgan-mnist", {"augment.name": "diffaugment"}).augment is not None


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("ring-2d", {"augment.name": "ada"}, r"augments images; data.name=ring gives points: set augment=null"),
        ("pix2pix-edges2digits", {"augment.name": "diffaugment"}, r"task=paired does not augment"),
        ("dcgan-digits8x8", {"augment.target": 0.6}, r"augment.name is not set; choose one of: ada, diffaugment"),
        ("dcgan-digits8x8", {"augment.name": "adaa"}, r"did you mean ada"),
        ("dcgan-digits8x8", {"augment.name": "ada", "augment.ops": ["xflip", "xflip"]}, r"xflip given more than once"),
        ("dcgan-digits8x8", {"augment.name": "diffaugment", "augment.policy": ["zoom"]}, r"augment.policy"),
        ("dcgan-digits8x8", {"augment.name": "ada", "augment.target": 1.5}, r"augment.target"),
    ],
)  # fmt: skip
def test_configs_that_cannot_augment_are_refused_with_the_fix(preset, overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve(preset, overrides)
