import pytest
import torch
import torch.nn as nn

from mmshallow.models.layers import SandGlassBlock
from mmshallow.registry import MODELS
from mmshallow.testing import randomize_bn_statistics


def structure(block):
    """(first dw?, hidden, last dw stride or None, residual?) of a block."""
    dw_out = None if block.dw_out is None else block.dw_out.conv.stride[0]
    return block.dw_in is not None, block.hidden_channels, dw_out, block.with_residual


# Every block MobileNeXt-1.0 builds (authors' mnext.py, SGBlock(inp, oup, stride, t, keep_3x3)).
@pytest.mark.parametrize('args,expected', [
    ((32, 96, 2, 2), (True, 16, 2, None)),        # case 1: t == 2, canonical, no residual
    ((96, 144, 1, 6, True), (True, 32, 1, None)),  # case 4, keep_3x3: hidden floor 144/6 -> 32
    ((144, 192, 2, 6), (False, 32, 2, None)),      # case 3: no first depthwise
    ((192, 192, 1, 6), (True, 32, 1, 192)),        # case 4: canonical with residual
    ((192, 288, 2, 6), (False, 48, 2, None)),
    ((288, 384, 1, 6), (False, 64, None, None)),   # case 2: no depthwise at all
    ((384, 384, 1, 6), (True, 64, 1, 384)),
    ((384, 576, 2, 6), (False, 96, 2, None)),
    ((576, 960, 1, 6), (False, 160, None, None)),  # case 2
    ((960, 960, 1, 6), (True, 160, 1, 960)),
    ((960, 1280, 1, 6, True), (True, 208, 1, None)),  # make_divisible(ceil(1280/6), 16)
])
def test_the_authors_four_block_cases(args, expected):
    with torch.device('meta'):
        block = SandGlassBlock(*args)
    first_dw, hidden, dw_stride, residual = expected
    assert structure(block) == (first_dw, hidden, dw_stride, residual is not None)
    assert block.identity_channels == residual


def test_t2_block_has_no_residual_even_when_shapes_match():
    block = SandGlassBlock(32, 32, 1, 2)
    assert structure(block) == (True, 16, 1, False)


def test_equal_width_strided_block_downsamples_without_residual():
    # the authors' code would run this dw at stride 1; their table never builds it
    block = SandGlassBlock(16, 16, 2, 6)
    assert structure(block) == (True, 16, 2, False)
    assert block(torch.rand(1, 16, 8, 8)).shape == (1, 16, 4, 4)


def test_layers_are_bias_free_with_bn_and_relu6_only_where_the_paper_has_them():
    block = SandGlassBlock(24, 24, 1, 6)
    layers = [block.dw_in, block.reduce, block.expand, block.dw_out]
    assert [m.conv.groups for m in layers] == [24, 1, 1, 24]
    assert [m.conv.kernel_size for m in layers] == [(3, 3), (1, 1), (1, 1), (3, 3)]
    assert all(m.conv.bias is None and isinstance(m.bn, nn.BatchNorm2d) for m in layers)
    assert [m.with_activation for m in layers] == [True, False, True, False]
    assert isinstance(block.dw_in.activate, nn.ReLU6)


def test_hidden_width_floor():
    assert SandGlassBlock(12, 96, 1, 6, keep_3x3=True).hidden_channels == 16
    assert SandGlassBlock(600, 96, 1, 6).hidden_channels == 100  # 600 // 6, no floor


def branch_and_block_output(channels, multiplier):
    torch.manual_seed(0)
    block = randomize_bn_statistics(SandGlassBlock(
        channels, channels, 1, 6, identity_tensor_multiplier=multiplier)).eval()
    x = torch.randn(2, channels, 6, 6)
    with torch.no_grad():
        branch = block.dw_out(block.expand(block.reduce(block.dw_in(x))))
        return x, branch, block(x)


@pytest.mark.parametrize('multiplier,kept', [(1.0, 48), (1 / 2, 24), (1 / 3, 16), (1 / 6, 8)])
def test_identity_tensor_multiplier_adds_to_the_first_channels_only(multiplier, kept):
    x, branch, out = branch_and_block_output(48, multiplier)
    expected = branch.clone()
    expected[:, :kept] += x[:, :kept]
    torch.testing.assert_close(out, expected)
    if kept < 48:
        torch.testing.assert_close(out[:, kept:], branch[:, kept:])


def test_partial_identity_backpropagates():
    block = SandGlassBlock(12, 12, 1, 6, identity_tensor_multiplier=1 / 3)
    x = torch.randn(2, 12, 5, 5, requires_grad=True)
    block(x).sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in block.parameters())


@pytest.mark.parametrize('multiplier,message', [
    (0.3, r'identity_tensor_multiplier 0.3 keeps 64 \* 0.3 = 19.2 of the 64 channels'),
    (1 / 6, r'keeps 64 \* 0.1666.* = 10.6667 of the 64 channels'),
    (1 / 3, r'= 21.3333 of the 64 channels .* 1, 1/2, 1/3 or 1/6'),
    (0, r'identity_tensor_multiplier 0 is not allowed: use a number in \(0, 1\]'),
    (1.5, 'identity_tensor_multiplier 1.5 is not allowed'),
    (True, 'identity_tensor_multiplier True is not allowed'),
    ('1/2', "identity_tensor_multiplier '1/2' is not allowed"),
])
def test_bad_identity_tensor_multiplier(multiplier, message):
    with pytest.raises(ValueError, match=message):
        SandGlassBlock(64, 64, 1, 6, identity_tensor_multiplier=multiplier)


def test_multiplier_of_a_block_without_residual_is_only_range_checked():
    # 1280 / 6 is no channel count, but the last block has no residual
    block = SandGlassBlock(32, 1280, 1, 6, keep_3x3=True, identity_tensor_multiplier=1 / 6)
    assert block.identity_channels is None
    with pytest.raises(ValueError, match='identity_tensor_multiplier 2 is not allowed'):
        SandGlassBlock(32, 64, 2, 6, identity_tensor_multiplier=2)


def test_bad_stride_and_expand_ratio():
    with pytest.raises(ValueError, match='stride 3 not allowed: 1 or 2'):
        SandGlassBlock(8, 8, 3, 6)
    with pytest.raises(ValueError, match='expand_ratio 0 must be an int >= 1'):
        SandGlassBlock(8, 8, 1, 0)


def test_with_cp_checkpoints_while_grads_flow_and_matches(checkpoint_calls):
    torch.manual_seed(0)
    block = randomize_bn_statistics(SandGlassBlock(12, 12, 1, 6)).eval()
    x = torch.randn(1, 12, 5, 5, requires_grad=True)
    expected = block(x)
    grad, = torch.autograd.grad(expected.sum(), x)
    block.with_cp = True
    out = block(x)
    assert checkpoint_calls == [block._inner_forward]
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(torch.autograd.grad(out.sum(), x)[0], grad)
    with torch.no_grad():  # inference: nothing requires grad
        block(x.detach())
    assert len(checkpoint_calls) == 1


def test_registered():
    block = MODELS.build(dict(type='mmshallow.SandGlassBlock', in_channels=8, out_channels=16,
                              stride=2, expand_ratio=6))
    assert isinstance(block, SandGlassBlock)
