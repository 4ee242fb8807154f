import pytest
import torch
import torch.nn as nn

from mmshallow.models.layers import RepVGGBlock
from mmshallow.testing import randomize_bn_statistics, relative_error


@pytest.mark.parametrize('in_channels,out_channels,stride,groups,se_ratio', [
    (16, 16, 1, 1, None),   # all three branches
    (16, 32, 2, 1, None),   # no identity
    (16, 16, 1, 4, None),   # grouped, with a grouped identity
    (16, 16, 2, 2, None),
    (32, 32, 1, 1, 16),     # D2se: SE kept after fusion
])
def test_fused_block_matches_train_time_block(in_channels, out_channels, stride, groups,
                                              se_ratio):
    torch.manual_seed(0)
    block = RepVGGBlock(in_channels, out_channels, stride, groups, se_ratio=se_ratio)
    randomize_bn_statistics(block).eval()
    x = torch.randn(2, in_channels, 12, 12)
    expected = block(x)
    assert (block.branch_norm is not None) == (in_channels == out_channels and stride == 1)
    block.switch_to_deploy()
    assert block.deploy and not hasattr(block, 'branch_3x3')
    assert block.fused_conv.weight.is_contiguous()
    assert relative_error(block(x), expected) <= 1e-5


def test_switch_to_deploy_is_idempotent():
    block = randomize_bn_statistics(RepVGGBlock(8, 8)).eval()
    block.switch_to_deploy()
    weight = block.fused_conv.weight
    block.switch_to_deploy()
    assert block.fused_conv.weight is weight


def test_deploy_build_has_the_fused_structure_and_loads_fused_weights():
    block = randomize_bn_statistics(RepVGGBlock(8, 8, se_ratio=4)).eval()
    block.switch_to_deploy()
    deployed = RepVGGBlock(8, 8, se_ratio=4, deploy=True)
    deployed.load_state_dict(block.state_dict(), strict=True)
    x = torch.randn(1, 8, 6, 6)
    assert torch.equal(deployed.eval()(x), block(x))


def test_d2se_block_keeps_its_se_layer_in_the_fused_forward():
    torch.manual_seed(0)
    block = randomize_bn_statistics(RepVGGBlock(32, 32, se_ratio=16)).eval()
    block.switch_to_deploy()
    x = torch.randn(1, 32, 6, 6)
    with torch.no_grad():
        without_se = block.act(block.fused_conv(x))
        assert torch.equal(block(x), block.act(block.se_layer(block.fused_conv(x))))
        assert relative_error(block(x), without_se) > 1e-2


def test_with_cp_checkpoints_in_training_only_and_gives_the_same_gradients(checkpoint_calls):
    torch.manual_seed(0)
    block = RepVGGBlock(8, 8)
    block_cp = RepVGGBlock(8, 8, with_cp=True)
    block_cp.load_state_dict(block.state_dict())
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    out, out_cp = block(x), block_cp(x)
    assert checkpoint_calls == [block_cp._inner_forward]
    assert torch.allclose(out, out_cp)
    out.sum().backward()
    grad = x.grad.clone()
    x.grad = None
    out_cp.sum().backward()
    assert torch.allclose(grad, x.grad)
    with torch.no_grad():  # inference: nothing requires grad
        block_cp.eval()(x.detach())
    assert len(checkpoint_calls) == 1


def test_block_with_group_norm_refuses_to_fuse():
    block = RepVGGBlock(8, 8, norm_cfg=dict(type='GN', num_groups=2))
    with pytest.raises(TypeError, match='cannot fuse a GroupNorm into a convolution'):
        block.switch_to_deploy()
    assert not block.deploy and isinstance(block.branch_3x3, nn.Module)


@pytest.mark.parametrize('in_channels,out_channels,groups,dilation', [
    (16, 16, 1, 2),   # all three branches: 1x1 and identity on the dilated centre tap
    (16, 16, 4, 4),   # grouped identity
    (16, 32, 1, 4),   # no identity
])
def test_dilated_block_fuses_exactly_and_keeps_its_geometry(in_channels, out_channels, groups,
                                                            dilation):
    torch.manual_seed(0)
    block = RepVGGBlock(in_channels, out_channels, groups=groups, dilation=dilation)
    randomize_bn_statistics(block).eval()
    assert block.branch_3x3.conv.dilation == (dilation, dilation)
    assert block.branch_3x3.conv.padding == (dilation, dilation)
    assert block.branch_1x1.conv.dilation == (1, 1)
    x = torch.randn(2, in_channels, 13, 11)
    with torch.no_grad():
        expected = block(x)
        block.switch_to_deploy()
        assert block.fused_conv.dilation == (dilation, dilation)
        assert relative_error(block(x), expected) <= 1e-5
        deployed = RepVGGBlock(in_channels, out_channels, groups=groups, dilation=dilation,
                               deploy=True).eval()
        deployed.load_state_dict(block.state_dict(), strict=True)
        assert torch.equal(deployed(x), block(x))
    assert expected.shape[-2:] == x.shape[-2:]


@pytest.mark.parametrize('dilation', [0, 1.5])
def test_bad_dilation_is_refused_with_the_value(dilation):
    with pytest.raises(ValueError, match=f'dilation must be an int >= 1, got {dilation}'):
        RepVGGBlock(8, 8, dilation=dilation)
