"""Fold the BatchNorms that re-parameterization leaves behind.

After :func:`reparameterize`, a model may still hold BatchNorm layers that are no block's
business: the conv + BN pairs of mmcv ``ConvModule`` s in necks and heads, conv/BN pairs in
``nn.Sequential`` s, and standalone BNs (ParNet's skip BN, the per-input BNs of its fusion
blocks), which no conv can absorb exactly (a BN before a zero-padded conv changes the borders).
In eval mode every BN is a per-channel affine map, so :func:`fold_batchnorms` folds the first
kind into their conv and turns the rest into :class:`ChannelAffine`. Exact up to rounding.
"""
from typing import Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from .fusion import bn_scale_shift, fuse_conv_bn


class ChannelAffine(nn.Module):
    """``x * weight + bias`` per channel (dim 1): an eval-mode BatchNorm with its running
    statistics folded in."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    @classmethod
    def from_bn(cls, bn: _BatchNorm) -> 'ChannelAffine':
        scale, shift = bn_scale_shift(bn)
        affine = cls(scale.numel()).to(scale)
        affine.weight.data.copy_(scale)
        affine.bias.data.copy_(shift)
        return affine

    def forward(self, x):
        shape = (1, -1) + (1, ) * (x.dim() - 2)
        return torch.addcmul(self.bias.view(shape), x, self.weight.view(shape))

    def extra_repr(self) -> str:
        return f'{self.weight.numel()}'


def _fold_into_conv(conv: nn.Conv2d, bn: _BatchNorm) -> None:
    kernel, bias = fuse_conv_bn(conv.weight, conv.bias, bn)
    conv.weight = nn.Parameter(kernel.detach().clone())
    conv.bias = nn.Parameter(bias.detach().clone())


def _conv_norm_of_conv_module(module: nn.Module) -> Tuple[nn.Module, nn.Module]:
    """(conv, norm) of an mmcv ``ConvModule`` whose norm directly follows its conv."""
    order = getattr(module, 'order', None)
    if not getattr(module, 'with_norm', False) or order is None:
        return None, None
    if list(order).index('norm') != list(order).index('conv') + 1:
        return None, None
    return module.conv, getattr(module, module.norm_name)


@torch.no_grad()
def fold_batchnorms(model: nn.Module, standalone_to_affine: bool = True) -> nn.Module:
    """Fold every eval-mode BatchNorm of ``model`` in place (see the module docstring); return
    ``model``. Call it after :func:`reparameterize`, in eval mode, for inference only.

    ``standalone_to_affine=False`` leaves the BNs that no container pairs with a conv as they
    are (a graph compiler may still fold them, e.g. a conv and a BN held as separate
    attributes of a ResNet block); True (for ONNX) turns them into :class:`ChannelAffine`."""
    for module in list(model.modules()):
        conv, norm = _conv_norm_of_conv_module(module)
        if isinstance(conv, nn.Conv2d) and isinstance(norm, _BatchNorm):
            _fold_into_conv(conv, norm)
            setattr(module, module.norm_name, nn.Identity())
        if isinstance(module, nn.Sequential):
            children = list(module._modules.items())
            for (_, first), (name, second) in zip(children, children[1:]):
                if isinstance(first, nn.Conv2d) and isinstance(second, _BatchNorm):
                    _fold_into_conv(first, second)
                    module._modules[name] = nn.Identity()
    if not standalone_to_affine:
        return model
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, _BatchNorm):
                setattr(parent, name, ChannelAffine.from_bn(child))
    return model
