"""Conditional networks: the label's path into G and D, projection, and label checks."""

import pytest
import torch

from gankit.nets import NetError
from gankit.nets.conditional import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    LabelBound,
    LabelEmbedding,
    label_rows,
)
from gankit.nets.dcgan import DCGANDiscriminator
from gankit.nets.mlp import MLPDiscriminator, MLPGenerator
from gankit.objectives.penalties import gradient_penalty


def test_onehot_embedding_is_exact_and_learned_has_its_own_size():
    onehot = LabelEmbedding(4)
    assert torch.equal(onehot(torch.tensor([2, 0])), torch.tensor([[0.0, 0, 1, 0], [1, 0, 0, 0]]))
    learned = LabelEmbedding(4, "learned", dim=3)
    assert learned.dim == 3 and learned(torch.tensor([1, 3])).shape == (2, 3)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (torch.tensor([0, 10]), r"label 10 is out of range: this run has 10 classes \(0–9\)"),
        (torch.tensor([-1, 2]), r"label -1 is out of range"),
        (torch.tensor([0.0, 1.0]), r"labels must be integers"),
    ],
)
def test_bad_labels_are_refused_with_the_range(labels, message):
    with pytest.raises(NetError, match=message):
        LabelEmbedding(10)(labels)


def test_the_generator_reads_z_joined_with_the_label():
    torch.manual_seed(0)
    embedding = LabelEmbedding(3)
    base = MLPGenerator(4 + 3, (2,), width=8)
    generator = ConditionalGenerator(base, embedding)
    z = torch.randn(5, 4)
    y = torch.tensor([0, 1, 2, 0, 1])
    expected = base(torch.cat([z, torch.eye(3)[y]], dim=1))
    assert torch.equal(generator(z, y), expected)
    assert not torch.allclose(generator(z, y), generator(z, (y + 1) % 3))


def test_concat_discriminator_sees_the_label_as_extra_channels_of_an_image():
    torch.manual_seed(0)
    base = DCGANDiscriminator((1 + 10, 8, 8), width=4, norm="none")
    D = ConditionalDiscriminator(base, 10, "concat", LabelEmbedding(10), channels=True)
    x = torch.randn(3, 1, 8, 8)
    y = torch.tensor([1, 5, 9])
    planes = torch.eye(10)[y][:, :, None, None].expand(-1, -1, 8, 8)
    assert torch.equal(D(x, y), base(torch.cat([x, planes], dim=1)))
    assert not torch.allclose(D(x, y), D(x, (y + 1) % 10))


def test_projection_adds_the_class_embeddings_inner_product_with_the_features():
    torch.manual_seed(0)
    base = MLPDiscriminator((2,), width=6)
    D = ConditionalDiscriminator(base, 3, "projection")
    x = torch.randn(4, 2)
    y = torch.tensor([0, 2, 1, 2])
    features = base.features(x)
    expected = base.classify(features) + (D.projection.weight[y] * features).sum(dim=1)
    torch.testing.assert_close(D(x, y), expected)


def test_the_auxiliary_classifier_maps_features_to_class_logits():
    base = MLPDiscriminator((2,), width=6)
    D = ConditionalDiscriminator(base, 3, "projection", auxiliary=True)
    assert D.class_logits(
        D.features(torch.randn(5, 2), torch.zeros(5, dtype=torch.long))
    ).shape == (5, 3)
    plain = ConditionalDiscriminator(base, 3, "projection")
    with pytest.raises(NetError, match="no auxiliary classifier"):
        plain.class_logits(torch.randn(5, 6))


def test_a_label_bound_discriminator_serves_the_gradient_penalty():
    torch.manual_seed(0)
    base = MLPDiscriminator((2 + 3,), width=6)
    D = ConditionalDiscriminator(base, 3, "concat", LabelEmbedding(3))
    y = torch.tensor([0, 1, 2, 1])
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    eps = torch.full((4,), 0.5)
    bound = gradient_penalty(LabelBound(D, y), real, fake, eps=eps)
    # by hand: ∇ₓ D(x̂, y) through the joined input
    mixed = (0.5 * real + 0.5 * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mixed, y).sum(), mixed)
    torch.testing.assert_close(bound, (grad.norm(dim=1) - 1).square().mean())


def test_label_rows_give_one_class_per_row():
    assert label_rows(3, 7).tolist() == [0, 0, 1, 1, 2, 2]
    assert label_rows(10, 5).tolist() == list(range(10))
