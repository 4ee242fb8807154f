from collections import OrderedDict
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_activation_layer

from mmshallow.registry import MODELS
from ..layers.channels import make_divisible
from ..layers.ghost_blocks import GhostBottleneck, build_conv_bn, check_static_or_experts
from .base_backbone import BaseShallowBackbone

# One list per stage (the official ``blocks[i]``), one row per bottleneck:
# dw kernel k, expanded width, output width, SE ratio, stride.
GHOSTNET_BLOCKS = [
    [[3, 16, 16, 0, 1]],
    [[3, 48, 24, 0, 2]],
    [[3, 72, 24, 0, 1]],
    [[5, 72, 40, 0.25, 2]],
    [[5, 120, 40, 0.25, 1]],
    [[3, 240, 80, 0, 2]],
    [[3, 200, 80, 0, 1],
     [3, 184, 80, 0, 1],
     [3, 184, 80, 0, 1],
     [3, 480, 112, 0.25, 1],
     [3, 672, 112, 0.25, 1]],
    [[5, 672, 160, 0.25, 2]],
    [[5, 960, 160, 0, 1],
     [5, 960, 160, 0.25, 1],
     [5, 960, 160, 0, 1],
     [5, 960, 160, 0.25, 1]],
]

# The released ParameterNet-600M's modified table (parameternet.py): 3x3 kernels and SE in
# stage 4's second half, one more 120 block, three 200 blocks, a third 672 block, five 960 blocks
# all with SE.
PARAMETERNET_BLOCKS = [
    [[3, 16, 16, 0, 1]],
    [[3, 48, 24, 0, 2]],
    [[3, 72, 24, 0, 1]],
    [[5, 72, 40, 0.25, 2]],
    [[3, 120, 40, 0.25, 1]] * 2,
    [[3, 240, 80, 0, 2]],
    [[3, 200, 80, 0, 1]] * 3 + [[3, 480, 112, 0.25, 1]] + [[3, 672, 112, 0.25, 1]] * 2,
    [[5, 672, 160, 0.25, 2]],
    [[3, 960, 160, 0.25, 1]] * 5,
]

_HSWISH = dict(type='HSwish')


@MODELS.register_module()
class ParameterNet(BaseShallowBackbone):
    """ParameterNet backbone (Han et al., "ParameterNet: Parameters Are All You Need",
    arXiv 2306.14525): GhostNet (Han et al., CVPR 2020) with dynamic convolutions, as the
    official code (huawei-noah/Efficient-AI-Backbones, ``parameternet_pytorch/cv/
    parameternet.py``, ``ghostnet_pytorch/ghostnet.py``) builds it.

    A stem (3x3 stride-2 conv + BN + act, ``make_divisible(16 * width, 4)`` channels), nine
    stages of :class:`GhostBottleneck` (the official ``blocks[0..8]``) and a tenth stage, the
    official ``blocks[9]``: a 1x1 conv + BN + act to ``make_divisible(960 * width, 4)``
    channels. With experts (ParameterNet) the stem, both convs of every Ghost module, both
    shortcut convs and the final 1x1 conv are :class:`DynamicConv2d` (``M`` experts mixed by a
    per-sample gate); the bottlenecks' stride-2 depthwise convs and the SE convs are static.
    :meth:`switch_to_deploy` folds every BN into its conv, into every expert of a dynamic one.

    The official classifier head (global pool, 1x1 conv to 1280 with bias + act, dropout 0.2,
    FC) is not part of the backbone: use :class:`GhostNetClsNeck` with mmpretrain's
    ``LinearClsHead(in_channels=1280)``.

    Archs (parameters with the official 1000-class head; MACs at 224x224 of the fused model
    by mmengine's counter, whose conv count sees only the conv with the already mixed kernel:
    the gates' pools and FCs and the kernel mixing matmul are counted apart):

    - ``'ghostnet-1.0x'``: the official GhostNet 1.0x, static convs, ReLU. 5,182,508
      parameters (official 5.2M); 141.2M conv + FC MACs (official 141M).
    - ``'parameternet-600m'``: the released ``parameternet_600m``: the modified block table
      ``PARAMETERNET_BLOCKS``, width 1.9, hard swish everywhere (SE included), ``M = 4``
      experts, sigmoid gate. 34,504,504 parameters; 570.1M conv + FC MACs, plus 19.4M of
      kernel mixing, 0.1M of gate FCs and 10.4M of global pools: 600.0M in all.
    - ``'parameternet-300m'``: not released (the paper derives it from a ~300M-FLOPs
      GhostNet); an mmshallow choice: the 600M block table at width 1.33 with ``M = 4`` (same
      gate and activations), the width whose total lands nearest 300M by the count that gives
      the 600M net its 600.0M. 18,161,864 parameters; 287.2M conv + FC MACs, plus 9.6M of
      mixing, 0.1M of gate FCs and 7.2M of pools: 304.0M in all (width 1.3 gives 292.5M).

    ``out_indices`` index the ten stages (the stem is not an output):

    ======  ===  ===  ===  ===  ===  ===  ===  ===  ===  ===
    index    0    1    2    3    4    5    6    7    8    9
    stride   2    4    4    8    8   16   16   32   32   32
    ======  ===  ===  ===  ===  ===  ===  ===  ===  ===  ===

    The last stage of each stride, ``(2, 4, 6, 9)``, gives strides 4, 8, 16, 32 for detection
    (ghostnet-1.0x channels 24, 40, 112, 960; parameternet-600m 44, 76, 212, 1824).

    Args:
        arch (str | dict): One of ``ParameterNet.arch_settings`` or a dict with ``blocks``
            (per stage, rows ``[dw kernel, expanded, out, se_ratio, stride]``) and ``width``,
            and optionally ``act_cfg`` (default ReLU), ``num_experts`` (an int >= 1, or None,
            the default: static convs) and ``stem_channels`` (default 16, before the width).
            A dynamic arch's static counterpart is its dict with ``num_experts=None``, e.g.
            ``dict(ParameterNet.arch_settings['parameternet-600m'], num_experts=None)``.
        in_channels (int): Input channels. Defaults to 3.
        out_indices (Sequence[int]): Stages whose outputs are returned (see the table);
            negative indices count from the last. Defaults to ``(-1, )``.
        frozen_stages (int): Freeze the stem (0) and the first ``frozen_stages`` stages;
            -1 freezes nothing. Defaults to -1.
        num_experts (int, optional): Override the arch's experts with an int >= 1 (dynamic
            convs with that many experts); None keeps the arch's (static for
            ``'ghostnet-1.0x'``, 4 for the ParameterNets). Static convs come from the arch
            (see ``arch``), not from this argument. Defaults to None.
        gate (str): Gate of the dynamic convs, ``'sigmoid'`` (released code) or ``'softmax'``
            (the paper's text); see :class:`DynamicConv2d`. Defaults to ``'sigmoid'``.
        act_cfg (dict, optional): Override the arch's activation. Defaults to None.
        widen_factor (float, optional): Override the arch's width multiplier (e.g. 0.5 for a
            small ParameterNet on 32x32 inputs). Defaults to None (the arch's).
        norm_cfg (dict): Norm config; fusion needs BatchNorm. Defaults to ``dict(type='BN')``.
        drop_path_rate (float): Stochastic depth, rising linearly over the nine bottleneck
            stages from 0 (official ``drop_path``). Defaults to 0.
        norm_eval (bool): Keep BN layers in eval mode while training. Defaults to False.
        deploy (bool): Build the fused structure directly. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config. Defaults to None:
            PyTorch's default init, as the official code.

    Example:
        >>> import torch
        >>> from mmshallow.models import ParameterNet
        >>> model = ParameterNet('ghostnet-1.0x', out_indices=(2, 4, 6, 9)).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 64))]
        [(1, 24, 16, 16), (1, 40, 8, 8), (1, 112, 4, 4), (1, 960, 2, 2)]
    """

    arch_settings = {
        'ghostnet-1.0x': dict(blocks=GHOSTNET_BLOCKS, width=1.0, act_cfg=dict(type='ReLU'),
                              num_experts=None),
        'parameternet-300m': dict(blocks=PARAMETERNET_BLOCKS, width=1.33, act_cfg=_HSWISH,
                                  num_experts=4),
        'parameternet-600m': dict(blocks=PARAMETERNET_BLOCKS, width=1.9, act_cfg=_HSWISH,
                                  num_experts=4),
    }

    required_arch_keys = ('blocks', 'width')
    optional_arch_keys = ('act_cfg', 'num_experts', 'stem_channels')

    def __init__(self, arch='parameternet-600m', in_channels: int = 3, out_indices=(-1, ),
                 frozen_stages: int = -1, num_experts: Optional[int] = None,
                 gate: str = 'sigmoid', act_cfg: Optional[dict] = None,
                 widen_factor: Optional[float] = None, norm_cfg=dict(type='BN'),
                 drop_path_rate: float = 0.,
                 norm_eval: bool = False, deploy: bool = False, init_cfg=None):
        arch = self.resolve_arch(arch)
        blocks = [[list(row) for row in stage] for stage in arch['blocks']]
        if not blocks or any(not stage or any(len(row) != 5 for row in stage)
                             for stage in blocks):
            raise ValueError(
                'ParameterNet arch blocks must be a non-empty list of non-empty stages of rows '
                f'[dw kernel, expanded, out, se_ratio, stride], got {arch["blocks"]!r}')
        if widen_factor is not None and (isinstance(widen_factor, bool)
                                         or not isinstance(widen_factor, (int, float))
                                         or widen_factor <= 0):
            raise ValueError(f'ParameterNet widen_factor must be a number > 0 or None (the '
                             f"arch's width), got {widen_factor!r}")
        check_static_or_experts(num_experts, none_means="the arch's default (static for "
                                "ghostnet-1.0x, 4 experts for the ParameterNets; for static "
                                "convs pass an arch dict with num_experts=None)")
        super().__init__(out_indices, len(blocks) + 1, frozen_stages, norm_eval, deploy,
                         init_cfg)
        num_experts = arch.get('num_experts') if num_experts is None else num_experts
        act_cfg = act_cfg or arch.get('act_cfg') or dict(type='ReLU')
        width = arch['width'] if widen_factor is None else widen_factor
        self.arch = dict(arch, blocks=blocks, width=width, num_experts=num_experts, act_cfg=act_cfg)
        self.num_experts = num_experts
        conv = dict(num_experts=num_experts, gate=gate, norm_cfg=norm_cfg, deploy=deploy)

        channels = make_divisible(arch.get('stem_channels', 16) * width, 4)
        self.stem = nn.Sequential(OrderedDict(
            conv=build_conv_bn(in_channels, channels, 3, 2, 1, **conv),
            act=build_activation_layer(act_cfg)))
        self.stages = nn.ModuleList()
        self.out_channels = []
        for i, stage in enumerate(blocks):
            # official stochastic depth: linear over the stages, one rate per stage
            rate = drop_path_rate * i / max(len(blocks) - 1, 1)
            layers = []
            for kernel, expanded, out, se_ratio, stride in stage:
                out = make_divisible(out * width, 4)
                layers.append(GhostBottleneck(
                    channels, make_divisible(expanded * width, 4), out, kernel, stride,
                    se_ratio, act_cfg, drop_path_rate=rate, **conv))
                channels = out
            self.stages.append(nn.Sequential(*layers))
            self.out_channels.append(channels)
        # the official last "stage": ConvBnAct 1x1 to the last block's expanded width
        final = make_divisible(blocks[-1][-1][1] * width, 4)
        self.stages.append(nn.Sequential(OrderedDict(
            conv=build_conv_bn(channels, final, 1, **conv),
            act=build_activation_layer(act_cfg))))
        self.out_channels.append(final)
