import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmshallow.models.layers import QARepVGGBlock, RepVGGBlock
from mmshallow.testing import randomize_bn_statistics, relative_error


def trained_like(block):
    """Random BN statistics and a 1x1 kernel of the 3x3's size: nothing is an identity."""
    randomize_bn_statistics(block)
    with torch.no_grad():
        block.branch_1x1.weight.normal_(std=0.2)
    return block.eval()


@pytest.mark.parametrize('in_channels,out_channels,stride,groups,se_ratio', [
    (16, 16, 1, 1, None),   # 3x3 + 1x1 + identity
    (16, 32, 2, 1, None),   # no identity
    (16, 16, 1, 4, None),   # grouped, with a grouped identity
    (16, 16, 2, 2, None),
    (32, 32, 1, 1, 16),     # SE after the post-sum BN, kept after fusion
])
def test_fused_block_matches_train_time_block(in_channels, out_channels, stride, groups,
                                              se_ratio):
    torch.manual_seed(0)
    block = trained_like(QARepVGGBlock(in_channels, out_channels, stride, groups,
                                       se_ratio=se_ratio))
    x = torch.randn(2, in_channels, 12, 12)
    with torch.no_grad():
        expected = block(x)
        block.switch_to_deploy()
        fused = block(x)
    assert block.deploy and not hasattr(block, 'post_norm')
    assert not any(isinstance(m, _BatchNorm) for m in block.modules())
    assert relative_error(fused, expected) <= 1e-5


def test_only_the_3x3_branch_and_the_sum_are_normalized():
    block = QARepVGGBlock(8, 8)
    norms = [name for name, m in block.named_modules() if isinstance(m, _BatchNorm)]
    assert norms == ['branch_3x3.bn', 'post_norm']
    assert isinstance(block.branch_1x1, nn.Conv2d) and block.branch_1x1.bias is None
    assert block.has_identity and not QARepVGGBlock(8, 16).has_identity
    assert not QARepVGGBlock(8, 8, stride=2).has_identity


def test_identity_is_added_before_the_post_norm():
    """With zero convs the block is act(BN(x)): the identity goes through the post-sum BN."""
    block = randomize_bn_statistics(QARepVGGBlock(4, 4)).eval()
    for conv in (block.branch_3x3.conv, block.branch_1x1):
        nn.init.zeros_(conv.weight)
    block.branch_3x3.bn.running_mean.zero_()
    block.branch_3x3.bn.bias.data.zero_()
    x = torch.randn(1, 4, 5, 5)
    with torch.no_grad():
        assert torch.allclose(block(x), torch.relu(block.post_norm(x)), atol=1e-6)


def test_deployed_block_has_the_repvgg_deploy_layout():
    block = trained_like(QARepVGGBlock(8, 8, se_ratio=4))
    block.switch_to_deploy()
    deployed = RepVGGBlock(8, 8, se_ratio=4, deploy=True).eval()
    deployed.load_state_dict(block.state_dict(), strict=True)
    x = torch.randn(1, 8, 6, 6)
    with torch.no_grad():
        assert torch.equal(deployed(x), block(x))
    assert QARepVGGBlock(8, 8, se_ratio=4, deploy=True).state_dict().keys() == \
        deployed.state_dict().keys()


def test_switch_to_deploy_is_idempotent_and_gradients_flow_before():
    block = QARepVGGBlock(8, 8, with_cp=True)
    x = torch.randn(2, 8, 6, 6, requires_grad=True)
    block(x).sum().backward()
    assert block.branch_1x1.weight.grad is not None and block.post_norm.weight.grad is not None
    block.eval().switch_to_deploy()
    weight = block.fused_conv.weight
    block.switch_to_deploy()
    assert block.fused_conv.weight is weight


def test_block_with_group_norm_refuses_to_fuse():
    block = QARepVGGBlock(8, 8, norm_cfg=dict(type='GN', num_groups=2))
    with pytest.raises(TypeError, match='cannot fuse a GroupNorm into a convolution'):
        block.switch_to_deploy()
    assert not block.deploy and isinstance(block.branch_3x3, nn.Module)
