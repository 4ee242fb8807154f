"""MobileNeXt's sandglass block (Zhou et al., "Rethinking Bottleneck Structure for Efficient
Mobile Network Design", ECCV 2020, arXiv 2007.02269), as the authors' code builds it
(yitu-opensource/MobileNeXt, ``mobilenext/codebase/models/mnext.py``, ``SGBlock``).

Nothing here is re-parameterizable: the block is a plain module.
"""
import math
from numbers import Real
from typing import Optional, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmshallow.registry import MODELS
from .channels import make_divisible
from .checkpointing import checkpointed

_ALLOWED_MULTIPLIERS = ('a number in (0, 1] with channels * multiplier an integer: 1, 1/2, 1/3 '
                        "or 1/6 (the paper's) where they divide the channels")


def check_identity_tensor_multiplier(multiplier: float) -> None:
    """Raise ``ValueError`` unless ``multiplier`` is a number in ``(0, 1]``."""
    if isinstance(multiplier, bool) or not isinstance(multiplier, Real) \
            or not 0 < multiplier <= 1:
        raise ValueError(f'identity_tensor_multiplier {multiplier!r} is not allowed: use '
                         f'{_ALLOWED_MULTIPLIERS}')


def identity_channel_count(channels: int, multiplier: float) -> int:
    """How many of ``channels`` the identity tensor multiplier keeps (paper Sec. 3.3).

    Raises:
        ValueError: if ``multiplier`` is not in ``(0, 1]`` or ``channels * multiplier`` is not
            an integer.
    """
    check_identity_tensor_multiplier(multiplier)
    count = round(channels * multiplier)
    if abs(channels * multiplier - count) > 1e-6 * channels:
        raise ValueError(
            f'identity_tensor_multiplier {multiplier!r} keeps {channels} * {multiplier!r} = '
            f'{channels * multiplier:g} of the {channels} channels of a residual sandglass '
            f'block, not an integer; use {_ALLOWED_MULTIPLIERS}')
    return count


def sandglass_layout(in_channels: int, out_channels: int, stride: int, expand_ratio: int,
                     keep_3x3: bool) -> Tuple[bool, bool, bool]:
    """``(with_dw_in, with_dw_out, residual)`` of a :class:`SandGlassBlock`: which of its
    depthwise convs exist and whether it adds the residual, case by case as the authors'
    ``SGBlock`` decides (see the class docstring)."""
    if stride not in (1, 2):
        raise ValueError(f'SandGlassBlock stride {stride!r} not allowed: 1 or 2')
    if isinstance(expand_ratio, bool) or not isinstance(expand_ratio, int) or expand_ratio < 1:
        raise ValueError(f'SandGlassBlock expand_ratio {expand_ratio!r} must be an int >= 1')
    if expand_ratio == 2:
        return True, True, False
    if in_channels != out_channels and not keep_3x3:
        return False, stride == 2, False
    return True, True, in_channels == out_channels and stride == 1 and not keep_3x3


@MODELS.register_module()
class SandGlassBlock(BaseModule):
    """Sandglass block: ``dw3x3 -> 1x1 reduce (linear) -> 1x1 expand -> dw3x3 (linear)``.

    The canonical form (paper Fig. 3(b)): depthwise 3x3 + BN + act on the wide input, a linear
    1x1 reduction to ``hidden`` channels + BN, a 1x1 expansion to ``out_channels`` + BN + act,
    and a linear depthwise 3x3 + BN that carries the stride. The shortcut joins the two wide
    ends (in, out), not the bottleneck.

    ``hidden = in_channels // expand_ratio``, floored at ``out_channels / 6``: below that it
    becomes ``make_divisible(ceil(out_channels / 6), 16)``.

    Which layers exist follows the authors' ``SGBlock`` exactly, case by case:

    1. ``expand_ratio == 2`` (their first stage): canonical, no residual.
    2. ``in != out``, ``stride == 1``, not ``keep_3x3``: 1x1 reduce and 1x1 expand only, no
       depthwise conv at all (``dw_in`` and ``dw_out`` are None); no residual.
    3. ``in != out``, ``stride == 2``, not ``keep_3x3``: no first depthwise conv (``dw_in`` is
       None); no residual.
    4. otherwise (``in == out`` or ``keep_3x3``): canonical; residual iff ``in == out``,
       ``stride == 1`` and not ``keep_3x3``.

    In case 4 the authors' code gives the last depthwise conv stride 1 whatever ``stride`` says
    (their layer table never asks for a stride there); here it carries ``stride``, so
    ``in == out`` with stride 2 downsamples, without a residual.

    Identity tensor multiplier (paper Sec. 3.3): the residual is added to the first
    ``round(out_channels * identity_tensor_multiplier)`` channels only; the rest pass through.
    The paper uses 1, 1/2, 1/3 and 1/6; a multiplier that does not give a whole number of the
    channels of a residual block raises ``ValueError``. Blocks without a residual ignore it
    (beyond checking it is in ``(0, 1]``).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the last depthwise conv, 1 or 2.
        expand_ratio (int): The paper's ``t``: the reduction ``hidden = in_channels // t``.
        keep_3x3 (bool): Keep both depthwise convs when ``in != out`` and drop the residual
            (the authors set it on a stage's first block when ``n == 1`` and ``s == 1``).
            Defaults to False.
        identity_tensor_multiplier (float): Fraction of the channels the residual is added
            to. Defaults to 1.0.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU6')``.
        with_cp (bool): Use gradient checkpointing. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int,
                 keep_3x3: bool = False, identity_tensor_multiplier: float = 1.0,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU6'), with_cp: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        with_dw_in, with_dw_out, residual = sandglass_layout(in_channels, out_channels, stride,
                                                             expand_ratio, keep_3x3)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.with_cp = with_cp
        hidden = in_channels // expand_ratio
        if hidden < out_channels / 6:
            hidden = make_divisible(math.ceil(out_channels / 6), 16)
        self.hidden_channels = hidden

        conv = dict(norm_cfg=norm_cfg)
        self.dw_in = ConvModule(in_channels, in_channels, 3, 1, 1, groups=in_channels,
                                act_cfg=act_cfg, **conv) if with_dw_in else None
        self.reduce = ConvModule(in_channels, hidden, 1, act_cfg=None, **conv)
        self.expand = ConvModule(hidden, out_channels, 1, act_cfg=act_cfg, **conv)
        self.dw_out = ConvModule(out_channels, out_channels, 3, stride, 1, groups=out_channels,
                                 act_cfg=None, **conv) if with_dw_out else None

        # a block without a residual only checks the range (1/6 of 1280 is no channel count)
        check_identity_tensor_multiplier(identity_tensor_multiplier)
        self.identity_tensor_multiplier = identity_tensor_multiplier
        #: channels the residual is added to; None without a residual
        self.identity_channels: Optional[int] = identity_channel_count(
            out_channels, identity_tensor_multiplier) if residual else None

    @property
    def with_residual(self) -> bool:
        return self.identity_channels is not None

    def _inner_forward(self, x):
        out = x if self.dw_in is None else self.dw_in(x)
        out = self.expand(self.reduce(out))
        if self.dw_out is not None:
            out = self.dw_out(out)
        n = self.identity_channels
        if n is None:
            return out
        if n == self.out_channels:
            return out + x
        # the authors add in place into a slice of ``out``; cat keeps autograd simple
        return torch.cat([out[:, :n] + x[:, :n], out[:, n:]], dim=1)

    def forward(self, x):
        return checkpointed(self._inner_forward, x, self.with_cp)
