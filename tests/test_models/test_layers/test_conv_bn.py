import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmshallow.models.layers import ConvBN
from mmshallow.testing import randomize_bn_statistics, relative_error


@pytest.mark.parametrize('bias,groups,stride', [(False, 1, 1), (True, 1, 2), (False, 4, 1)])
def test_fuses_into_one_biased_conv_exactly(bias, groups, stride):
    torch.manual_seed(0)
    pair = randomize_bn_statistics(ConvBN(8, 12, 3, stride, 1, groups, bias=bias)).eval()
    x = torch.randn(2, 8, 9, 9)
    with torch.no_grad():
        expected = pair(x)
        pair.switch_to_deploy()
        fused = pair(x)
    assert list(pair.state_dict()) == ['fused_conv.weight', 'fused_conv.bias']
    assert pair.fused_conv.groups == groups and pair.fused_conv.stride == (stride, stride)
    assert relative_error(fused, expected) <= 1e-6
    deployed = ConvBN(8, 12, 3, stride, 1, groups, bias=bias, deploy=True).eval()
    deployed.load_state_dict(pair.state_dict(), strict=True)
    assert torch.equal(deployed(x), fused)


def test_state_dict_keys_are_those_of_a_conv_module_with_bn():
    """The official-checkpoint converters map onto ``conv.*`` / ``bn.*``."""
    ours = ConvBN(4, 8, 3, padding=1)
    theirs = ConvModule(4, 8, 3, padding=1, norm_cfg=dict(type='BN'), act_cfg=None)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_kaiming_init_draws_as_a_conv_module_at_build_and_in_init_weights():
    def build(cls, **kwargs):
        torch.manual_seed(0)
        return cls(4, 8, 3, padding=1, norm_cfg=dict(type='BN'), **kwargs)

    ours, theirs = build(ConvBN, kaiming_init=True), build(ConvModule, act_cfg=None)
    assert torch.equal(ours.conv.weight, theirs.conv.weight)
    for module in (ours, theirs):
        module.bn.weight.data.fill_(3)
        torch.manual_seed(1)
        module.init_weights()
    assert torch.equal(ours.conv.weight, theirs.conv.weight)
    assert torch.equal(ours.bn.weight, torch.ones(8))
    torch.manual_seed(0)
    default = ConvBN(4, 8, 3, padding=1)  # PyTorch's init, which init_weights leaves alone
    weight = default.conv.weight.clone()
    default.init_weights()
    assert torch.equal(default.conv.weight, weight)
    assert not torch.equal(weight, ours.conv.weight)


def test_group_norm_refuses_to_fuse():
    pair = ConvBN(4, 4, 1, norm_cfg=dict(type='GN', num_groups=2))
    with pytest.raises(TypeError, match='cannot fuse a GroupNorm into a convolution'):
        pair.switch_to_deploy()
    assert not pair.deploy and isinstance(pair.conv, nn.Conv2d)
