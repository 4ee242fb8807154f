import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

import mmshallow
from mmshallow.models.layers import (ConvBN, DynamicConv2d, DynamicConvBN, GhostBottleneck,
                                     GhostModule, SELayer)
from mmshallow.testing import randomize_bn_statistics, relative_error


def fused_matches(module, x):
    module = randomize_bn_statistics(module).eval()
    with torch.no_grad():
        expected, expected_one = module(x), module(x[:1])
        mmshallow.reparameterize(module)
        assert not any(isinstance(m, _BatchNorm) for m in module.modules())
        return max(relative_error(module(x), expected), relative_error(module(x[:1]),
                                                                       expected_one))


@pytest.mark.parametrize('num_experts', [None, 1, 3])
def test_ghost_module_concatenates_primary_and_cheap_features(num_experts):
    torch.manual_seed(0)
    module = GhostModule(6, 10, num_experts=num_experts).eval()
    kind = DynamicConvBN if num_experts else ConvBN
    assert isinstance(module.primary_conv, kind) and isinstance(module.cheap_operation, kind)
    x = torch.randn(2, 6, 7, 7)
    with torch.no_grad():
        out = module(x)
        primary = torch.relu(module.primary_conv(x))
        cheap = torch.relu(module.cheap_operation(primary))
    assert out.shape == (2, 10, 7, 7)
    assert torch.equal(out, torch.cat([primary, cheap], 1))
    assert module.cheap_operation.conv.groups == 5  # depthwise


def test_ghost_module_slices_to_odd_widths_and_takes_other_ratios():
    module = GhostModule(4, 7, ratio=3, act_cfg=None).eval()
    assert module.primary_conv.conv.out_channels == 3
    assert module.cheap_operation.conv.out_channels == 6
    assert isinstance(module.primary_act, nn.Identity)
    assert module(torch.randn(1, 4, 5, 5)).shape == (1, 7, 5, 5)
    with pytest.raises(ValueError, match='ratio 1 is not allowed'):
        GhostModule(4, 8, ratio=1)


def test_bottleneck_se_has_ghostnets_hidden_width_and_hard_sigmoid_gate():
    torch.manual_seed(0)
    block = GhostBottleneck(8, 120, 8, se_ratio=0.25, act_cfg=dict(type='HSwish'))
    se = block.se
    assert isinstance(se, SELayer)
    # timm's make_divisible(120 * 0.25, 4) = 32, not 120 // 4 = 30
    assert se.reduce.out_channels == 32 and se.reduce.bias is not None
    assert isinstance(se.act, nn.Hardswish)
    x = torch.randn(2, 120, 4, 4)
    scale = se.expand(F.hardswish(se.reduce(x.mean((2, 3), keepdim=True))))
    assert torch.allclose(se(x), x * F.relu6(scale + 3) / 6)


def dynamic_convs(module):
    return {n.rsplit('.', 1)[0] for n, m in module.named_modules()
            if isinstance(m, DynamicConv2d)}


def test_bottleneck_puts_dynamic_convs_where_parameternet_does():
    block = GhostBottleneck(8, 16, 12, 5, stride=2, se_ratio=0.25, num_experts=4)
    assert dynamic_convs(block) == {'ghost1.primary_conv', 'ghost1.cheap_operation',
                                    'ghost2.primary_conv', 'ghost2.cheap_operation',
                                    'shortcut.0', 'shortcut.1'}
    # static: the stride-2 depthwise conv and the SE convs
    assert isinstance(block.conv_dw, ConvBN) and block.conv_dw.conv.groups == 16
    assert block.conv_dw.conv.stride == (2, 2) and block.conv_dw.conv.kernel_size == (5, 5)
    assert block.shortcut[0].conv.stride == 2 and block.shortcut[0].conv.groups == 8
    assert isinstance(block.se.reduce, nn.Conv2d)
    assert isinstance(block.ghost2.primary_act, nn.Identity)
    static = GhostBottleneck(8, 16, 8)
    assert not dynamic_convs(static) and isinstance(static.shortcut, nn.Identity)
    assert static.conv_dw is None and static.se is None


@pytest.mark.parametrize('num_experts', [None, 4])
@pytest.mark.parametrize('stride,out', [(1, 8), (1, 12), (2, 12)])
def test_bottleneck_fuses_exactly(num_experts, stride, out):
    torch.manual_seed(0)
    block = GhostBottleneck(8, 20, out, 3, stride, se_ratio=0.25,
                            act_cfg=dict(type='HSwish'), num_experts=num_experts)
    assert fused_matches(block, torch.randn(2, 8, 10, 10)) <= 1e-5
    assert all(m.deploy for m in block.modules() if hasattr(m, 'deploy'))


def test_deploy_built_bottleneck_loads_the_fused_weights():
    torch.manual_seed(0)
    block = GhostBottleneck(8, 16, 12, 3, 2, se_ratio=0.25, num_experts=2)
    x = torch.randn(2, 8, 8, 8)
    fused_matches(block, x)
    deployed = GhostBottleneck(8, 16, 12, 3, 2, se_ratio=0.25, num_experts=2,
                               deploy=True).eval()
    deployed.load_state_dict(block.state_dict())
    with torch.no_grad():
        assert relative_error(deployed(x), block(x)) == 0


def test_bottleneck_drop_path_and_bad_arguments():
    block = GhostBottleneck(8, 16, 8, drop_path_rate=0.5)
    assert block.drop_path.drop_prob == 0.5
    with pytest.raises(ValueError, match='stride 3 is not allowed'):
        GhostBottleneck(8, 16, 8, stride=3)
    for bad in (0, -1, 1.5, True):
        message = (rf'num_experts {bad!r} is not allowed: use None for static convs \(GhostNet\) '
                   'or an int >= 1 for dynamic convs')
        with pytest.raises(ValueError, match=message):
            GhostModule(4, 8, num_experts=bad)
        with pytest.raises(ValueError, match=message):
            GhostBottleneck(8, 16, 12, stride=2, num_experts=bad)
