import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmshallow.models.layers.fusion import (avgpool_1x1_to_3x3_s2, conv_from_branch,
                                            fuse_bn_identity, fuse_conv_bn, identity_kernel,
                                            merge_1x1_after_kxk, merge_kxk_after_1x1, pad_kernel,
                                            sum_branches)
from mmshallow.testing import randomize_bn_statistics, relative_error

TOL = 1e-5


def _bn(channels, seed=0):
    return randomize_bn_statistics(nn.BatchNorm2d(channels), seed).eval()


def _conv(k, b, x, stride=1, padding=0, groups=1):
    return F.conv2d(x, k, b, stride=stride, padding=padding, groups=groups)


@pytest.mark.parametrize('with_bias', [False, True])
def test_fuse_conv_bn_matches_conv_then_bn(with_bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 8, 3, padding=1, bias=with_bias)
    bn = _bn(8)
    x = torch.randn(2, 6, 9, 9)
    kernel, bias = fuse_conv_bn(conv.weight, conv.bias, bn)
    assert relative_error(_conv(kernel, bias, x, padding=1), bn(conv(x))) <= TOL


def test_fuse_conv_bn_without_affine():
    torch.manual_seed(0)
    conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
    bn = nn.BatchNorm2d(4, affine=False).eval()
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    x = torch.randn(1, 4, 5, 5)
    kernel, bias = fuse_conv_bn(conv.weight, None, bn)
    assert relative_error(_conv(kernel, bias, x, padding=1), bn(conv(x))) <= TOL


@pytest.mark.parametrize('groups', [1, 2, 4])
def test_pad_1x1_to_3x3_keeps_stride_and_groups(groups):
    torch.manual_seed(0)
    conv1 = nn.Conv2d(8, 8, 1, stride=2, groups=groups)
    x = torch.randn(2, 8, 10, 10)
    padded = pad_kernel(conv1.weight, 3)
    assert padded.shape == (8, 8 // groups, 3, 3)
    out = _conv(padded, conv1.bias, x, stride=2, padding=1, groups=groups)
    assert relative_error(out, conv1(x)) <= TOL


def test_pad_kernel_rejects_bigger_or_even_kernels():
    with pytest.raises(ValueError, match='cannot pad a 5x5 kernel to 3x3'):
        pad_kernel(torch.zeros(1, 1, 5, 5), 3)
    with pytest.raises(ValueError, match='cannot pad a 2x2'):
        pad_kernel(torch.zeros(1, 1, 2, 2), 3)


@pytest.mark.parametrize('groups', [1, 2, 8])
def test_identity_bn_to_conv_is_groups_aware(groups):
    bn = _bn(8, seed=1)
    x = torch.randn(2, 8, 6, 6)
    kernel, bias = fuse_bn_identity(bn, groups=groups, kernel_size=3)
    assert kernel.shape == (8, 8 // groups, 3, 3)
    assert relative_error(_conv(kernel, bias, x, padding=1, groups=groups), bn(x)) <= TOL
    assert torch.equal(_conv(identity_kernel(8, groups), None, x, padding=1, groups=groups), x)


def test_identity_kernel_rejects_indivisible_groups():
    with pytest.raises(ValueError, match='channels 6 not divisible by groups 4'):
        identity_kernel(6, groups=4)


def test_sum_of_parallel_branches_is_one_conv():
    torch.manual_seed(0)
    conv3, conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.Conv2d(4, 4, 1, bias=False)
    bn3, bn1, bn0 = _bn(4, 1), _bn(4, 2), _bn(4, 3)
    x = torch.randn(2, 4, 7, 7)
    expected = bn3(conv3(x)) + bn1(conv1(x)) + bn0(x)
    k1, b1 = fuse_conv_bn(conv1.weight, None, bn1)
    kernel, bias = sum_branches([fuse_conv_bn(conv3.weight, None, bn3), (pad_kernel(k1), b1),
                                 fuse_bn_identity(bn0)])
    assert relative_error(_conv(kernel, bias, x, padding=1), expected) <= TOL
    with pytest.raises(ValueError, match='at least one branch'):
        sum_branches([])


def test_merge_1x1_after_kxk():
    torch.manual_seed(0)
    first, second = nn.Conv2d(3, 16, 4, stride=4), nn.Conv2d(16, 8, 1)
    x = torch.randn(2, 3, 16, 16)
    kernel, bias = merge_1x1_after_kxk((first.weight, first.bias), (second.weight, second.bias))
    assert relative_error(_conv(kernel, bias, x, stride=4), second(first(x))) <= TOL
    # a padded kxk conv is exact too: the 1x1 pads nothing
    first = nn.Conv2d(3, 16, 3, padding=1)
    kernel, bias = merge_1x1_after_kxk((first.weight, first.bias), (second.weight, second.bias))
    assert relative_error(_conv(kernel, bias, x, padding=1), second(first(x))) <= TOL


def test_merge_kxk_after_1x1():
    torch.manual_seed(0)
    first, second = nn.Conv2d(6, 12, 1), nn.Conv2d(12, 5, 3, stride=2)
    x = torch.randn(2, 6, 11, 11)
    kernel, bias = merge_kxk_after_1x1((first.weight, first.bias), (second.weight, second.bias))
    assert relative_error(_conv(kernel, bias, x, stride=2), second(first(x))) <= TOL


def test_merges_reject_mismatched_or_grouped_convs():
    with pytest.raises(ValueError, match='the 1x1 conv takes 4 channels but the kxk conv gives 8'):
        merge_1x1_after_kxk((torch.zeros(8, 3, 3, 3), torch.zeros(8)),
                            (torch.zeros(2, 4, 1, 1), torch.zeros(2)))
    with pytest.raises(ValueError, match='second conv must be 1x1'):
        merge_1x1_after_kxk((torch.zeros(8, 3, 3, 3), torch.zeros(8)),
                            (torch.zeros(2, 8, 3, 3), torch.zeros(2)))
    with pytest.raises(ValueError, match='first conv must be 1x1'):
        merge_kxk_after_1x1((torch.zeros(8, 3, 3, 3), torch.zeros(8)),
                            (torch.zeros(2, 8, 3, 3), torch.zeros(2)))


@pytest.mark.parametrize('groups', [1, 2])
def test_avgpool_1x1_is_a_3x3_stride2_kernel(groups):
    torch.manual_seed(0)
    conv1 = nn.Conv2d(8, 6, 1, groups=groups)
    x = torch.randn(2, 8, 12, 16)
    expected = conv1(F.avg_pool2d(x, 2, 2))
    kernel = avgpool_1x1_to_3x3_s2(conv1.weight)
    out = _conv(kernel, conv1.bias, x, stride=2, padding=1, groups=groups)
    assert relative_error(out, expected) <= TOL
    # together with a real 3x3/s2 branch and both BNs (ParNet's downsampling block)
    conv3 = nn.Conv2d(8, 6, 3, stride=2, padding=1, groups=groups, bias=False)
    bn3, bn1 = _bn(6, 4), _bn(6, 5)
    expected = bn3(conv3(x)) + bn1(conv1(F.avg_pool2d(x, 2, 2)))
    k1, b1 = fuse_conv_bn(conv1.weight, conv1.bias, bn1)
    kernel, bias = sum_branches([fuse_conv_bn(conv3.weight, None, bn3),
                                 (avgpool_1x1_to_3x3_s2(k1), b1)])
    assert relative_error(_conv(kernel, bias, x, 2, 1, groups), expected) <= TOL


def test_conv_from_branch_copies_geometry_and_is_contiguous():
    ref = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2, bias=False)
    kernel = torch.randn(3, 3, 4, 8).permute(3, 2, 0, 1)  # non-contiguous on purpose
    conv = conv_from_branch((kernel, torch.randn(8)), ref)
    assert (conv.stride, conv.padding, conv.groups) == ((2, 2), (1, 1), 2)
    assert conv.weight.is_contiguous() and conv.bias is not None
    assert torch.equal(conv.weight, kernel)


@pytest.mark.parametrize('norm', [nn.GroupNorm(2, 4), nn.LayerNorm(4), nn.InstanceNorm2d(4)])
def test_fusing_a_non_bn_norm_is_a_clear_error(norm):
    with pytest.raises(TypeError, match=f'cannot fuse a {type(norm).__name__} into a conv'):
        fuse_conv_bn(torch.zeros(4, 4, 3, 3), None, norm)


def test_fusing_bn_without_running_stats_is_a_clear_error():
    bn = nn.BatchNorm2d(4, track_running_stats=False)
    with pytest.raises(ValueError, match='track_running_stats=False'):
        fuse_bn_identity(bn)
