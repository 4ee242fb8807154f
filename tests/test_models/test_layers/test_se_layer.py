import pytest
import torch
import torch.nn as nn

from mmshallow.models.layers import SELayer


def test_repvgg_d2se_form_reduces_by_the_ratio_with_a_sigmoid_gate():
    torch.manual_seed(0)
    se = SELayer(64, 16)
    assert se.reduce.out_channels == 4 and se.expand.in_channels == 4
    x = torch.randn(2, 64, 5, 7)  # global pool for any shape
    hidden = torch.relu(se.reduce(x.mean((2, 3), keepdim=True)))
    assert torch.allclose(se(x), x * torch.sigmoid(se.expand(hidden)))


def test_hidden_channels_replace_the_ratio():
    assert SELayer(120, hidden_channels=32).reduce.out_channels == 32


def test_a_ratio_that_leaves_no_channel_is_refused():
    with pytest.raises(ValueError, match='channels 8 // ratio 16 is 0'):
        SELayer(8, 16)
    with pytest.raises(ValueError, match='hidden_channels is 0'):
        SELayer(8, hidden_channels=0)


def test_loads_checkpoints_with_ghostnets_former_conv_names():
    torch.manual_seed(0)
    se = SELayer(16, act_cfg=dict(type='HSwish'), gate_cfg=dict(type=nn.Hardsigmoid),
                 hidden_channels=4)
    old = {k.replace('reduce.', 'conv_reduce.').replace('expand.', 'conv_expand.'): v
           for k, v in se.state_dict().items()}
    assert sorted(old) == ['conv_expand.bias', 'conv_expand.weight', 'conv_reduce.bias',
                           'conv_reduce.weight']
    wrapper = nn.Sequential(SELayer(16, act_cfg=dict(type='HSwish'),
                                    gate_cfg=dict(type=nn.Hardsigmoid), hidden_channels=4))
    wrapper.load_state_dict({f'0.{k}': v for k, v in old.items()}, strict=True)
    x = torch.randn(1, 16, 3, 3)
    assert torch.equal(wrapper(x), se(x))
