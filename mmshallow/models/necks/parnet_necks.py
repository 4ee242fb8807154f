"""Detection necks built from ParNet's blocks (re-parameterizable like the backbone)."""
from functools import partial
from typing import Callable, Sequence

import torch.nn as nn
import torch.nn.functional as F

from mmshallow.registry import MODELS
from ..layers.parnet_blocks import ParNetDownsampleBlock, ParNetFusionBlock, RepVGGSSEBlock
from ..layers.reparam import ReparamContainer
from .inputs import check_input_channels


def _repeat(count: int, build: Callable[[], nn.Module]) -> nn.ModuleList:
    return nn.ModuleList(build() for _ in range(count))


@MODELS.register_module()
class ParNetFusionNeck(ReparamContainer):
    """A PAFPN made of ParNet blocks.

    Each input is projected to ``out_channels`` by a stride-1 :class:`ParNetDownsampleBlock`
    (3x3 + 1x1 + SE). Top-down, the coarser map is upsampled (nearest, x2) and fused with the
    finer one by a stride-1 :class:`ParNetFusionBlock` (per-input BN, interleave, grouped block,
    shuffle), followed by a :class:`RepVGGSSEBlock`; bottom-up, the finer result is downsampled
    by a :class:`ParNetDownsampleBlock` and fused the same way. Inputs must have strides that
    double from level to level (as ParNet's, ResNet's, ...).

    Args:
        in_channels (Sequence[int]): Channels of the inputs, finest first; their number is the
            number of levels.
        out_channels (int): Channels of every output level.
        conv_cfg (dict, optional): Conv config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation. Defaults to ``dict(type='SiLU')``.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, conv_cfg=None,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'), deploy: bool = False,
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        if not isinstance(in_channels, Sequence) or len(in_channels) < 2:
            raise ValueError(f'ParNetFusionNeck needs at least 2 input levels, got '
                             f'in_channels={in_channels!r}')
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, deploy=deploy)
        self.laterals = nn.ModuleList(
            ParNetDownsampleBlock(c, out_channels, stride=1, **cfg) for c in in_channels)
        # one of each between two adjacent levels, built in this order (seeded inits)
        gaps = len(in_channels) - 1
        fusion = partial(ParNetFusionBlock, out_channels, out_channels, stride=1, **cfg)
        block = partial(RepVGGSSEBlock, out_channels, **cfg)
        self.top_down_fusions = _repeat(gaps, fusion)
        self.top_down_blocks = _repeat(gaps, block)
        self.downsamples = _repeat(
            gaps, partial(ParNetDownsampleBlock, out_channels, out_channels, stride=2, **cfg))
        self.bottom_up_fusions = _repeat(gaps, fusion)
        self.bottom_up_blocks = _repeat(gaps, block)

    def forward(self, inputs):
        check_input_channels(self, inputs, self.in_channels)
        laterals = [lateral(x) for lateral, x in zip(self.laterals, inputs)]
        # top-down: coarse to fine
        top_down = [laterals[-1]]
        for i in range(len(laterals) - 2, -1, -1):
            upsampled = F.interpolate(top_down[0], size=laterals[i].shape[-2:], mode='nearest')
            fused = self.top_down_fusions[i](laterals[i], upsampled)
            top_down.insert(0, self.top_down_blocks[i](fused))
        # bottom-up: fine to coarse
        outs = [top_down[0]]
        for i in range(len(laterals) - 1):
            down = self.downsamples[i](outs[-1])
            outs.append(self.bottom_up_blocks[i](self.bottom_up_fusions[i](top_down[i + 1],
                                                                           down)))
        return tuple(outs)


@MODELS.register_module()
class ParNetDownsampleNeck(ReparamContainer):
    """Passes its inputs through and appends coarser levels made by ParNet downsampling blocks
    (like FPN's extra convs), e.g. to give a 4-level backbone + neck the 5 levels Faster R-CNN's
    RPN expects.

    Args:
        in_channels (Sequence[int]): Channels of the inputs, finest first.
        num_outs (int): Number of output levels (>= number of inputs).
        out_channels (int, optional): Channels of the added levels. Defaults to the last
            input's channels.
        conv_cfg, norm_cfg, act_cfg, deploy, init_cfg: as in :class:`ParNetFusionNeck`.
    """

    def __init__(self, in_channels: Sequence[int], num_outs: int, out_channels: int = None,
                 conv_cfg=None, norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'),
                 deploy: bool = False,
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        if num_outs < len(self.in_channels):
            raise ValueError(f'ParNetDownsampleNeck: num_outs {num_outs} < the number of '
                             f'inputs {len(self.in_channels)}')
        self.num_outs = num_outs
        out_channels = out_channels or self.in_channels[-1]
        channels = [self.in_channels[-1]] + [out_channels] * (num_outs - len(self.in_channels))
        self.extra_levels = nn.ModuleList(
            ParNetDownsampleBlock(c_in, c_out, stride=2, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                  act_cfg=act_cfg, deploy=deploy)
            for c_in, c_out in zip(channels[:-1], channels[1:]))

    def forward(self, inputs):
        check_input_channels(self, inputs, self.in_channels)
        outs = list(inputs)
        for block in self.extra_levels:
            x = outs[-1]
            if x.shape[-2] % 2 or x.shape[-1] % 2:  # ParNet's stride-2 blocks need even maps
                x = F.pad(x, (0, x.shape[-1] % 2, 0, x.shape[-2] % 2))
            outs.append(block(x))
        return tuple(outs)
