"""evaluating(): eval mode for a block, every module's own mode back afterwards."""

import pytest
from torch import nn

from gankit.nets.modes import evaluating


def _net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Dropout(0.5))


def _modes(module: nn.Module) -> list[bool]:
    return [m.training for m in module.modules()]


def test_modules_are_in_eval_mode_inside_and_restored_after():
    a, b = _net().train(), _net().eval()
    with evaluating(a, b):
        assert not any(_modes(a)) and not any(_modes(b))
    assert all(_modes(a)) and not any(_modes(b))


def test_modes_are_restored_after_an_error():
    net = _net().train()
    with pytest.raises(RuntimeError, match="boom"), evaluating(net):
        raise RuntimeError("boom")
    assert all(_modes(net))


def test_each_submodule_gets_its_own_mode_back():
    net = _net().train()
    net[1].eval()  # a frozen BatchNorm inside a training network
    before = _modes(net)
    with evaluating(net):
        assert not any(_modes(net))
    assert _modes(net) == before


def test_none_is_skipped_and_shared_modules_are_restored_once():
    shared = nn.Linear(2, 2).train()
    outer = nn.Sequential(shared, nn.ReLU()).train()
    with evaluating(outer, None, shared):
        assert not shared.training and not outer.training
    assert shared.training and outer.training
