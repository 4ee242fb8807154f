"""The fusion math of structural re-parameterization, written once for every block.

A branch is a pair ``(kernel, bias)`` of a convolution (``kernel`` of shape
``(out, in // groups, k, k)``, ``bias`` of shape ``(out,)``). Each function turns a piece of a
train-time structure into such a pair, or combines pairs; the result is exact in eval mode
(BatchNorm uses its running statistics). Blocks only say which branches they sum.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

Branch = Tuple[Tensor, Tensor]


def _check_bn(norm: nn.Module) -> None:
    if not isinstance(norm, _BatchNorm):
        raise TypeError(
            f'cannot fuse a {type(norm).__name__} into a convolution: re-parameterization '
            'needs BatchNorm (BN, SyncBN, BatchNorm2d) whose running statistics make it linear '
            'at inference; build the model with norm_cfg=dict(type="BN") to fuse it')
    if norm.running_mean is None or norm.running_var is None:
        raise ValueError(
            f'cannot fuse {type(norm).__name__} built with track_running_stats=False: '
            'it normalizes with batch statistics, which no fixed convolution reproduces')


def bn_scale_shift(norm: _BatchNorm) -> Tuple[Tensor, Tensor]:
    """BN(x) = scale * x + shift, with the running statistics."""
    _check_bn(norm)
    std = (norm.running_var + norm.eps).sqrt()
    weight = norm.weight if norm.weight is not None else torch.ones_like(std)
    bias = norm.bias if norm.bias is not None else torch.zeros_like(std)
    scale = weight / std
    return scale, bias - norm.running_mean * scale


def fuse_conv_bn(kernel: Tensor, bias: Optional[Tensor], norm: nn.Module) -> Branch:
    """conv (optionally with bias) followed by BN -> one conv with bias."""
    scale, shift = bn_scale_shift(norm)
    fused_bias = shift if bias is None else shift + bias * scale
    return kernel * scale.reshape(-1, 1, 1, 1), fused_bias


def fuse_experts_bn(kernels: Tensor, expert_bias: Optional[Tensor], norm: nn.Module,
                    static_bias: Optional[Tensor] = None
                    ) -> Tuple[Tensor, Optional[Tensor], Tensor]:
    """A dynamic conv followed by BN -> the same dynamic conv with a static bias.

    The dynamic conv mixes ``M`` expert kernels ``kernels`` (``(M, out, in // groups, k, k)``)
    and optional expert biases ``expert_bias`` (``(M, out)``) with per-sample gates ``a_i``, then
    adds an optional ``static_bias`` (``(out,)``) that is not mixed. BN is ``scale * y + shift``
    and the mix is linear in the experts, so
    ``BN(conv(x, sum a_i W_i) + sum a_i b_i + c) = conv(x, sum a_i scale W_i)
    + sum a_i scale b_i + (scale c + shift)``: every expert is scaled and the shift joins the
    static bias, never the experts (a sigmoid gate's ``a_i`` need not sum to 1). Exact for any
    gate. Returns ``(kernels, expert_bias, static_bias)``.
    """
    scale, shift = bn_scale_shift(norm)
    kernels = kernels * scale.reshape(-1, 1, 1, 1)  # broadcasts over the expert dim
    if expert_bias is not None:
        expert_bias = expert_bias * scale
    return kernels, expert_bias, shift if static_bias is None else shift + static_bias * scale


def identity_kernel(channels: int, groups: int = 1, kernel_size: int = 3,
                    dtype: torch.dtype = torch.float32,
                    device: Optional[torch.device] = None) -> Tensor:
    """The kernel of a (grouped) ``kernel_size`` conv that returns its input unchanged."""
    if channels % groups:
        raise ValueError(f'channels {channels} not divisible by groups {groups}')
    in_per_group = channels // groups
    kernel = torch.zeros(channels, in_per_group, kernel_size, kernel_size,
                         dtype=dtype, device=device)
    centre = kernel_size // 2
    index = torch.arange(channels, device=device)
    # index_put, not item assignment: see avgpool_1x1_to_3x3_s2
    return kernel.index_put((index, index % in_per_group, torch.full_like(index, centre),
                             torch.full_like(index, centre)), torch.ones((), dtype=dtype,
                                                                         device=device))


def fuse_bn_identity(norm: nn.Module, groups: int = 1, kernel_size: int = 3) -> Branch:
    """A BN-only identity branch -> a conv (groups aware)."""
    _check_bn(norm)
    kernel = identity_kernel(norm.num_features, groups, kernel_size,
                             dtype=norm.running_var.dtype, device=norm.running_var.device)
    return fuse_conv_bn(kernel, None, norm)


def pad_kernel(kernel: Tensor, kernel_size: int = 3) -> Tensor:
    """Zero-pad a smaller odd kernel (1x1 -> 3x3) around its centre.

    Exact when the small conv used padding ``(kernel_size_small - 1) // 2`` less than the big
    one by ``(kernel_size - k) // 2`` and the same stride and groups (a 1x1/p0 next to a 3x3/p1).
    """
    k = kernel.shape[-1]
    if k > kernel_size or (kernel_size - k) % 2:
        raise ValueError(f'cannot pad a {k}x{k} kernel to {kernel_size}x{kernel_size}')
    p = (kernel_size - k) // 2
    return nn.functional.pad(kernel, [p, p, p, p])


def sum_branches(branches: Sequence[Branch]) -> Branch:
    """Parallel branches on the same input, summed -> one conv (kernels padded alike first)."""
    if not branches:
        raise ValueError('sum_branches needs at least one branch')
    kernel = sum(k for k, _ in branches)
    bias = sum(b for _, b in branches)
    return kernel, bias


def _squeeze_1x1(kernel: Tensor, role: str) -> Tensor:
    if kernel.shape[-2:] != (1, 1):
        raise ValueError(f'the {role} conv must be 1x1, got kernel of shape {tuple(kernel.shape)}')
    return kernel[:, :, 0, 0]


def merge_1x1_after_kxk(first: Branch, second: Branch) -> Branch:
    """``conv1x1(convkxk(x))`` -> one kxk conv (both ungrouped, no nonlinearity between).

    Exact everywhere, borders included: the 1x1 conv pads nothing.
    """
    k1, b1 = first
    w2 = _squeeze_1x1(second[0], 'second')
    if w2.shape[1] != k1.shape[0]:
        raise ValueError(
            f'cannot merge: the 1x1 conv takes {w2.shape[1]} channels but the kxk conv '
            f'gives {k1.shape[0]} (grouped convs are not supported)')
    kernel = torch.einsum('om,mikl->oikl', w2, k1)
    return kernel.contiguous(), w2 @ b1 + second[1]


def merge_kxk_after_1x1(first: Branch, second: Branch) -> Branch:
    """``convkxk(conv1x1(x))`` -> one kxk conv (both ungrouped, no nonlinearity between).

    Exact when the kxk conv does not pad (as in a stem or a 'valid' conv); with padding the
    border would see the 1x1 conv's bias instead of zeros.
    """
    w1 = _squeeze_1x1(first[0], 'first')
    k2, b2 = second
    if k2.shape[1] != w1.shape[0]:
        raise ValueError(
            f'cannot merge: the kxk conv takes {k2.shape[1]} channels but the 1x1 conv '
            f'gives {w1.shape[0]} (grouped convs are not supported)')
    kernel = torch.einsum('omkl,mi->oikl', k2, w1)
    return kernel.contiguous(), b2 + k2.sum(dim=(2, 3)) @ first[1]


def avgpool_1x1_to_3x3_s2(kernel: Tensor) -> Tensor:
    """``conv1x1(AvgPool2d(2, 2)(x))`` -> the kernel of a 3x3, stride-2, padding-1 conv.

    A 2x2 average pool then a 1x1 conv is a 2x2 stride-2 conv with weights ``w / 4``; the
    3x3/s2/p1 window of output ``i`` covers input rows ``2i-1 .. 2i+1``, the pool rows
    ``2i .. 2i+1``, so the 2x2 sits in the bottom-right of the 3x3. Exact for even input sizes
    (for odd ones the two branches do not even give the same output size).
    """
    w = _squeeze_1x1(kernel, 'avg-pool branch')
    # Functional (no item assignment): mmdeploy rewrites Tensor.__setitem__ while it exports,
    # and mmshallow.deploy fuses inside that context.
    return F.pad((w / 4)[:, :, None, None].expand(-1, -1, 2, 2), (1, 0, 1, 0))


def conv_from_branch(branch: Branch, reference: nn.Conv2d) -> nn.Conv2d:
    """A new biased ``nn.Conv2d`` holding ``branch``, with the stride, padding, dilation and
    groups of ``reference`` (the branch whose geometry the fused conv keeps)."""
    kernel, bias = branch
    conv = nn.Conv2d(
        kernel.shape[1] * reference.groups, kernel.shape[0], kernel.shape[-1],
        stride=reference.stride, padding=reference.padding, dilation=reference.dilation,
        groups=reference.groups, bias=True, padding_mode=reference.padding_mode,
        device=kernel.device, dtype=kernel.dtype)
    conv.weight.data.copy_(kernel.detach())
    conv.bias.data.copy_(bias.detach())
    return conv
