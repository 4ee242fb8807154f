from typing import Optional, Sequence, Tuple

import torch.nn as nn

from mmshallow.registry import MODELS
from ..layers.vanillanet_blocks import VanillaBlock, VanillaStem
from .base_backbone import BaseShallowBackbone


def _arch(dims, strides, **extra):
    return dict(dims=[128 * d for d in dims], strides=strides, **extra)


# VanillaNet-7 .. 13: 2048-wide stride-16 stages added one by one (official widths in 128s).
_DEEP_STRIDES = [1, 2, 2] + [1] * 6 + [2, 1]
_DIMS_13 = [4, 4, 8] + [16] * 7 + [32, 32]
_DIMS_13_X15 = [6, 6, 12] + [24] * 7 + [48, 48]


@MODELS.register_module()
class VanillaNet(BaseShallowBackbone):
    """VanillaNet backbone (Chen et al., "VanillaNet: the Power of Minimalism in Deep Learning",
    NeurIPS 2023), as the official code (huawei-noah/VanillaNet) builds it.

    A :class:`VanillaStem` (4x4 conv, stride 4) and one :class:`VanillaBlock` per stage: stage
    ``i`` maps ``dims[i] -> dims[i + 1]`` and max-pools by ``strides[i]``. After fusion (λ = 1,
    see :class:`DeepTrainingHook`) every stage is one 1x1 conv + pool + series activation.
    The official classifier is :class:`VanillaNetClassifier` (with mmpretrain's ``ClsHead``).

    ``out_indices`` index the stages, 0-based, as the official mmdet backbone does: its
    VanillaNet-13 detectors tap ``out_indices=[0, 1, 8, 10]`` (Mask R-CNN; strides 4, 8, 16, 32,
    channels 512, 1024, 2048, 4096) and ``[1, 8, 10]`` (RetinaNet; strides 8, 16, 32); stage 8
    is the last stride-16 stage. The stem's output is not an output.

    The ada-pool arch ``'13-1.5x-ada'`` (the README's VanillaNet-13-1.5x†) has a 4x4 stride-3,
    padding-1 stem (224 -> 75) and adaptive max pools to 38, 19 and 10 instead of the three
    stride-2 pools; it is made for 224x224 inputs only and rejects other sizes.

    Args:
        arch (str | dict): One of ``VanillaNet.arch_settings`` (``'5'`` ... ``'13'``,
            ``'13-1.5x'``, ``'13-1.5x-ada'``) or a dict with ``dims`` (stages + 1 ints) and
            ``strides`` (one per stage), and optionally ``ada_pool`` (one per stage, 0 for
            none), ``stem_stride`` (default 4), ``stem_padding`` (default 0) and
            ``input_size`` (the one input size accepted, for adaptive pools).
        in_channels (int): Input channels. Defaults to 3.
        act_num (int): n of the series activations' ``(2n+1)^2`` kernels; the official
            detection configs use 4. Defaults to 3.
        out_indices (Sequence[int]): Stages whose outputs are returned; negative indices count
            from the last stage. Defaults to ``(-1, )``.
        frozen_stages (int): Freeze the stem (0) and the first ``frozen_stages`` stages;
            -1 freezes nothing. Defaults to -1.
        norm_eval (bool): Keep BN layers in eval mode while training. Defaults to False.
        deploy (bool): Build the fused structure directly. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config. Defaults to the
            official one: truncated normal (std 0.02) conv weights, zero biases, BN weight 1.

    Example:
        >>> import torch
        >>> from mmshallow.models import VanillaNet
        >>> model = VanillaNet('5', out_indices=(0, 1, 2), deploy=True).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 64))]
        [(1, 1024, 8, 8), (1, 2048, 4, 4), (1, 4096, 2, 2)]
    """

    arch_settings = {
        '5': _arch([4, 8, 16, 32], [2, 2, 2]),
        '6': _arch([4, 8, 16, 32, 32], [2, 2, 2, 1]),
        '7': _arch([4, 4, 8, 16, 32, 32], [1, 2, 2, 2, 1]),
        '8': _arch([4, 4, 8, 16, 16, 32, 32], [1, 2, 2, 1, 2, 1]),
        '9': _arch([4, 4, 8, 16, 16, 16, 32, 32], [1, 2, 2, 1, 1, 2, 1]),
        '10': _arch([4, 4, 8] + [16] * 4 + [32, 32], [1, 2, 2, 1, 1, 1, 2, 1]),
        '11': _arch([4, 4, 8] + [16] * 5 + [32, 32], [1, 2, 2, 1, 1, 1, 1, 2, 1]),
        '12': _arch([4, 4, 8] + [16] * 6 + [32, 32], [1, 2, 2, 1, 1, 1, 1, 1, 2, 1]),
        '13': _arch(_DIMS_13, _DEEP_STRIDES),
        '13-1.5x': _arch(_DIMS_13_X15, _DEEP_STRIDES),
        # README's VanillaNet-13-1.5x†: official vanillanet_13_x1_5_ada_pool
        '13-1.5x-ada': _arch(_DIMS_13_X15, _DEEP_STRIDES,
                             ada_pool=[0, 38, 19, 0, 0, 0, 0, 0, 0, 10, 0], stem_stride=3,
                             stem_padding=1, input_size=224),
    }

    required_arch_keys = ('dims', 'strides')
    optional_arch_keys = ('ada_pool', 'stem_stride', 'stem_padding', 'input_size')

    def __init__(self, arch='5', in_channels: int = 3, act_num: int = 3, out_indices=(-1, ),
                 frozen_stages: int = -1, norm_eval: bool = False, deploy: bool = False,
                 init_cfg=[
                     dict(type='TruncNormal', layer='Conv2d', std=.02, bias=0.),
                     dict(type='Constant', layer='_BatchNorm', val=1., bias=0.)
                 ]):
        arch_name = arch if isinstance(arch, str) else 'custom'
        arch = self.resolve_arch(arch)
        dims, strides = list(arch['dims']), list(arch['strides'])
        ada_pool = [p or None for p in arch.get('ada_pool') or [0] * len(strides)]
        if not strides or len(dims) != len(strides) + 1 or len(ada_pool) != len(strides):
            raise ValueError(
                f'VanillaNet arch needs len(dims) == len(strides) + 1 (stage i maps dims[i] to '
                f'dims[i + 1]) and one ada_pool per stage, got dims={dims}, strides={strides}, '
                f'ada_pool={arch.get("ada_pool")}')
        super().__init__(out_indices, len(strides), frozen_stages, norm_eval, deploy, init_cfg)
        self.arch_name = arch_name
        self.arch = dict(arch, dims=dims, strides=strides)
        self.out_channels = dims[1:]
        size = arch.get('input_size')
        self.input_size: Optional[Tuple[int, int]] = (
            None if size is None else tuple(size) if isinstance(size, Sequence) else
            (size, size))

        self.stem = VanillaStem(in_channels, dims[0], act_num, arch.get('stem_stride', 4),
                                arch.get('stem_padding', 0), deploy=deploy)
        self.stages = nn.ModuleList(
            VanillaBlock(dims[i], dims[i + 1], act_num, strides[i], ada_pool[i], deploy=deploy)
            for i in range(len(strides)))

    def forward(self, x):
        if self.input_size is not None and tuple(x.shape[-2:]) != self.input_size:
            h, w = self.input_size
            raise ValueError(
                f'VanillaNet arch {self.arch_name!r} got a {x.shape[-2]}x{x.shape[-1]} input '
                f'but requires {h}x{w}: its adaptive max pools '
                f'{[p for p in self.arch["ada_pool"] if p]} were made for that size; resize '
                "the input, or use an arch without ada_pool (e.g. '13-1.5x') for other sizes")
        return super().forward(x)
