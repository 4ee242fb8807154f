"""GhostNet's blocks (Han et al., "GhostNet: More Features from Cheap Operations", CVPR 2020),
with the dynamic convs of ParameterNet (arXiv 2306.14525), after the official code
(huawei-noah/Efficient-AI-Backbones: ``ghostnet_pytorch/ghostnet.py`` and
``parameternet_pytorch/cv/parameternet.py``).

``num_experts`` switches between the two: ``None`` builds GhostNet's static convs; an int
>= 1 puts a :class:`DynamicConv2d` with that many experts exactly where the released
ParameterNet does (both convs of every :class:`GhostModule`, both shortcut convs; the stem and
the final 1x1 conv in the backbone). The stride-2 depthwise conv of a bottleneck and the SE
convs stay static in both.

Every conv + BN here is a re-parameterizable pair: :meth:`switch_to_deploy` folds the BN into
the static conv (:class:`ConvBN`) or into every expert of the dynamic one
(:class:`DynamicConvBN`).
"""
import math
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmcv.cnn.bricks import DropPath

from mmshallow.registry import MODELS
from .channels import make_divisible
from .conv_bn import ConvBN
from .dynamic_conv import DynamicConvBN
from .reparam import ReparamContainer, ReparamModule
from .se_layer import SELayer


def check_static_or_experts(num_experts, none_means: str = 'static convs (GhostNet)') -> None:
    """``num_experts`` of a GhostNet block: None (``none_means``) or an int >= 1; 0 is an error,
    not a second spelling of "static"."""
    if num_experts is None or (isinstance(num_experts, int) and not isinstance(num_experts, bool)
                               and num_experts >= 1):
        return
    raise ValueError(f'num_experts {num_experts!r} is not allowed: use None for {none_means} '
                     'or an int >= 1 for dynamic convs with that many experts (ParameterNet '
                     'uses 4)')


def build_conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                  padding: int = 0, groups: int = 1, num_experts: Optional[int] = None,
                  gate: str = 'sigmoid', norm_cfg=dict(type='BN'),
                  deploy: bool = False) -> ReparamModule:
    """A :class:`DynamicConvBN` with ``num_experts`` experts, or a static :class:`ConvBN` for
    ``num_experts`` None."""
    check_static_or_experts(num_experts)
    if num_experts is not None:
        return DynamicConvBN(in_channels, out_channels, kernel_size, stride, padding,
                             groups=groups, num_experts=num_experts, gate=gate,
                             norm_cfg=norm_cfg, deploy=deploy)
    return ConvBN(in_channels, out_channels, kernel_size, stride, padding, groups,
                  norm_cfg=norm_cfg, deploy=deploy)


def _activation(act_cfg) -> nn.Module:
    return nn.Identity() if act_cfg is None else build_activation_layer(act_cfg)


@MODELS.register_module()
class GhostModule(ReparamContainer):
    """Ghost module: a primary conv makes ``ceil(out / ratio)`` channels, a cheap depthwise conv
    makes ``ratio - 1`` more from each, and the two are concatenated (sliced to ``out``).

    ``primary_conv`` (``kernel_size``, stride ``stride``) and ``cheap_operation`` (depthwise
    ``dw_size``, stride 1) are conv + BN pairs (:func:`build_conv_bn`: dynamic with
    ``num_experts``), each followed by the activation (none for a projection module).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Kernel of the primary conv. Defaults to 1.
        ratio (int): Output / primary channels. Defaults to 2.
        dw_size (int): Kernel of the cheap depthwise conv. Defaults to 3.
        stride (int): Stride of the primary conv. Defaults to 1.
        act_cfg (dict, optional): Activation after both convs; None for none (the
            bottleneck's second module). Defaults to ``dict(type='ReLU')``.
        num_experts (int, optional): Experts of both convs, an int >= 1; None: static.
            Defaults to None.
        gate (str): Gate of the dynamic convs (see :class:`DynamicConv2d`). Defaults to
            ``'sigmoid'``.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 ratio: int = 2, dw_size: int = 3, stride: int = 1,
                 act_cfg=dict(type='ReLU'), num_experts: Optional[int] = None,
                 gate: str = 'sigmoid', norm_cfg=dict(type='BN'), deploy: bool = False,
                 init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 2:
            raise ValueError(f'ratio {ratio!r} is not allowed: a Ghost module needs an int '
                             '>= 2 (output channels per primary channel)')
        self.out_channels = out_channels
        primary = math.ceil(out_channels / ratio)
        conv = dict(num_experts=num_experts, gate=gate, norm_cfg=norm_cfg, deploy=deploy)
        self.primary_conv = build_conv_bn(in_channels, primary, kernel_size, stride,
                                          kernel_size // 2, **conv)
        self.primary_act = _activation(act_cfg)
        self.cheap_operation = build_conv_bn(primary, primary * (ratio - 1), dw_size, 1,
                                             dw_size // 2, groups=primary, **conv)
        self.cheap_act = _activation(act_cfg)

    def forward(self, x):
        primary = self.primary_act(self.primary_conv(x))
        out = torch.cat([primary, self.cheap_act(self.cheap_operation(primary))], dim=1)
        return out if out.shape[1] == self.out_channels else out[:, :self.out_channels]


@MODELS.register_module()
class GhostBottleneck(ReparamContainer):
    """Ghost bottleneck: ``ghost2(SE(dw(ghost1(x)))) + shortcut(x)``.

    ``ghost1`` expands to ``mid_channels`` with the activation; a stride-2 bottleneck then has
    a static depthwise ``dw_kernel_size`` conv + BN (``conv_dw``); an optional
    :class:`SELayer` (GhostNet's, with a hard-sigmoid gate); ``ghost2`` projects to
    ``out_channels`` without activation. The shortcut is the identity when the shape is kept,
    else a depthwise ``dw_kernel_size`` conv (stride ``stride``) + BN and a 1x1 conv + BN, both
    dynamic with ``num_experts``.

    Args:
        in_channels (int): Input channels.
        mid_channels (int): Expanded channels.
        out_channels (int): Output channels.
        dw_kernel_size (int): Kernel of the depthwise convs. Defaults to 3.
        stride (int): 1 or 2. Defaults to 1.
        se_ratio (float): SE hidden ratio; 0 / None for no SE. Defaults to 0.
        act_cfg (dict): Activation of ``ghost1`` and of the SE. Defaults to
            ``dict(type='ReLU')``.
        num_experts (int, optional): Experts of the dynamic convs, an int >= 1; None: static
            (GhostNet). Defaults to None.
        gate (str): Gate of the dynamic convs. Defaults to ``'sigmoid'``.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        drop_path_rate (float): Stochastic depth of the residual branch. Defaults to 0.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int,
                 dw_kernel_size: int = 3, stride: int = 1, se_ratio: Optional[float] = 0.,
                 act_cfg=dict(type='ReLU'), num_experts: Optional[int] = None,
                 gate: str = 'sigmoid', norm_cfg=dict(type='BN'), drop_path_rate: float = 0.,
                 deploy: bool = False, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        if stride not in (1, 2):
            raise ValueError(f'stride {stride!r} is not allowed: a Ghost bottleneck has '
                             'stride 1 or 2')
        conv = dict(num_experts=num_experts, gate=gate, norm_cfg=norm_cfg, deploy=deploy)
        padding = (dw_kernel_size - 1) // 2
        self.ghost1 = GhostModule(in_channels, mid_channels, act_cfg=act_cfg, **conv)
        self.conv_dw = ConvBN(mid_channels, mid_channels, dw_kernel_size, stride, padding,
                              groups=mid_channels, norm_cfg=norm_cfg,
                              deploy=deploy) if stride > 1 else None
        # timm's SqueezeExcite(gate_fn=hard_sigmoid, divisor=4), as the official code
        self.se = SELayer(mid_channels, act_cfg=act_cfg, gate_cfg=dict(type=nn.Hardsigmoid),
                          hidden_channels=make_divisible(mid_channels * se_ratio, 4)
                          ) if se_ratio else None
        self.ghost2 = GhostModule(mid_channels, out_channels, act_cfg=None, **conv)
        if in_channels == out_channels and stride == 1:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                build_conv_bn(in_channels, in_channels, dw_kernel_size, stride, padding,
                              groups=in_channels, **conv),
                build_conv_bn(in_channels, out_channels, 1, **conv))
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()

    def forward(self, x):
        out = self.ghost1(x)
        if self.conv_dw is not None:
            out = self.conv_dw(out)
        if self.se is not None:
            out = self.se(out)
        return self.shortcut(x) + self.drop_path(self.ghost2(out))
