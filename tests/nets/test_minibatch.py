import math

import pytest
import torch
from pydantic import ValidationError

from gankit.nets import MinibatchDiscrimination, MinibatchOptions, MLPDiscriminator
from gankit.objectives.penalties import gradient_penalty


def test_matches_a_hand_computed_example():
    """A = B = C = 2, n = 3. Rows M_{i,b} = Σ_a x_i[a]·T[a, b] with
    T[0] = [[1, 0], [0, 1]] and T[1] = [[0, 1], [1, 1]]:

        x_1 = (1, 0): M_1 = [[1, 0], [0, 1]]
        x_2 = (0, 1): M_2 = [[0, 1], [1, 1]]
        x_3 = (1, 1): M_3 = [[1, 1], [1, 2]]

    L1 distances, kernel 0: d12 = 2, d13 = 1, d23 = 1; kernel 1: d12 = 1, d13 = 2, d23 = 1.
    o(x_i)_b = Σ_j exp(−d_ij), with d_ii = 0 contributing exp(0) = 1."""
    layer = MinibatchDiscrimination(in_features=2, kernels=2, kernel_dim=2)
    with torch.no_grad():
        layer.T.copy_(torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 1.0]]]))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    e1, e2 = math.exp(-1), math.exp(-2)
    o = [
        [1 + e2 + e1, 1 + e1 + e2],
        [e2 + 1 + e1, e1 + 1 + e1],
        [e1 + e1 + 1, e2 + e1 + 1],
    ]
    expected = torch.tensor([[*x_i, *o_i] for x_i, o_i in zip(x.tolist(), o, strict=True)])
    out = layer(x)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out, expected)


def test_by_explicit_loops_on_random_values():
    torch.manual_seed(0)
    a, b, c, n = 4, 3, 2, 5
    layer = MinibatchDiscrimination(a, b, c)
    f = torch.randn(n, a)
    t = layer.T.detach()
    expected = torch.zeros(n, b)
    for i in range(n):
        for j in range(n):
            for k in range(b):
                m_i = sum(f[i, q] * t[q, k] for q in range(a))  # (C,)
                m_j = sum(f[j, q] * t[q, k] for q in range(a))
                expected[i, k] += torch.exp(-(m_i - m_j).abs().sum())
    out = layer(f)
    torch.testing.assert_close(out[:, :a], f, rtol=0, atol=0)
    torch.testing.assert_close(out[:, a:], expected)


def test_a_collapsed_batch_scores_n_and_a_lone_sample_scores_one():
    layer = MinibatchDiscrimination(3, 4, 2)
    same = torch.ones(5, 3)
    torch.testing.assert_close(layer(same)[:, 3:], torch.full((5, 4), 5.0))
    torch.testing.assert_close(layer(torch.randn(1, 3))[:, 3:], torch.ones(1, 4))


def test_init_and_gradients():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(50, 40, 10)
    assert layer.T.shape == (50, 40, 10)
    assert layer.T.std().item() == pytest.approx(0.1, rel=0.05)
    layer(torch.randn(6, 50)).sum().backward()
    assert layer.T.grad is not None and layer.T.grad.abs().sum() > 0


def test_options():
    options = MinibatchOptions()
    assert (options.kernels, options.kernel_dim) == (100, 5)
    with pytest.raises(ValidationError, match="extra"):
        MinibatchOptions(kernel=3)
    with pytest.raises(ValidationError, match="kernels"):
        MinibatchOptions(kernels=0)
    with pytest.raises(ValidationError):
        options.kernels = 3  # frozen


def test_a_gradient_penalty_differentiates_through_minibatch_discrimination_twice():
    """Double backpropagation (WGAN-GP, R1) must pass through the pairwise L1 distances."""
    torch.manual_seed(0)
    critic = MLPDiscriminator(
        (2,), width=8, depth=1, minibatch_discrimination=MinibatchOptions(kernels=4, kernel_dim=3)
    )
    gradient_penalty(critic, torch.randn(6, 2), torch.randn(6, 2)).backward()
    grad = critic.minibatch.T.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
