import torch.nn as nn
from mmcv.cnn import ConvModule

from mmshallow.registry import MODELS
from ..layers.channels import make_divisible
from ..layers.sandglass_block import SandGlassBlock
from .base_backbone import BaseShallowBackbone


@MODELS.register_module()
class MobileNeXt(BaseShallowBackbone):
    """MobileNeXt backbone (Zhou et al., "Rethinking Bottleneck Structure for Efficient Mobile
    Network Design", ECCV 2020, arXiv 2007.02269), as the authors' code (yitu-opensource/
    MobileNeXt, ``mnext.py``, ``MXNet``) builds it.

    A 3x3 stride-2 conv stem (+ BN + ReLU6) and one stage of :class:`SandGlassBlock` per row
    ``(t, c, n, s)`` of :attr:`layer_settings`: ``n`` blocks of ``c * widen_factor`` channels,
    the first with stride ``s``; a stage's first block keeps both depthwise convs (and has no
    residual) when ``n == 1`` and ``s == 1``. There is no final 1x1 conv: the authors'
    classifier is GAP -> Dropout(0.2) -> Linear(1280, num_classes), i.e. mmpretrain's
    ``GlobalAveragePooling`` and a linear head on the last stage.

    Widths follow the authors' rounding: stage ``c`` becomes ``make_divisible(c * w, 8)`` and the
    stem ``make_divisible(32 * w, 8)`` (the authors use divisor 4 for w = 0.1, which is not one of
    the published widths), except that the last stage stays 1280 for ``w < 1``.

    ``out_indices`` index the 8 stages, 0-based (the stem is not an output; ``frozen_stages``
    counts it as part 0). Strides and channels at ``widen_factor=1.0``:

    ======  =====  ======  ========
    index   c      stride  spatial at 224
    ======  =====  ======  ========
    0       96     4       56
    1       144    4       56
    2       192    8       28
    3       288    16      14
    4       384    16      14
    5       576    32      7
    6       960    32      7
    7       1280   32      7
    ======  =====  ======  ========

    For a detector taking strides 4, 8, 16, 32, use the last stage of each stride:
    ``out_indices=(1, 2, 4, 7)``; channels :attr:`out_channels` ``[i]`` for each index.

    ``identity_tensor_multiplier`` (paper Sec. 3.3; 1, 1/2, 1/3 or 1/6 in the paper) adds the
    residual to that fraction of the channels of every residual block. It must give a whole
    number of channels in every residual stage (192, 288, 384, 576, 960 at w = 1.0): all four
    work at widths 0.5, 0.75 and 1.0; at 0.35 (64, 104, 136, 200, 336) and 1.4 (272, 400, 536,
    808, 1344) only 1 and 1/2 do, and 1/3 or 1/6 raises ``ValueError``.

    Args:
        widen_factor (float): Width multiplier, one of 0.35, 0.5, 0.75, 1.0, 1.4.
            Defaults to 1.0.
        in_channels (int): Input channels. Defaults to 3.
        identity_tensor_multiplier (float): Fraction of the channels each residual is added
            to. Defaults to 1.0 (the released model).
        out_indices (Sequence[int]): Stages whose outputs are returned; negative indices count
            from the last stage. Defaults to ``(7, )``.
        frozen_stages (int): Freeze the stem (0) and the first ``frozen_stages`` stages;
            -1 freezes nothing. Defaults to -1.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU6')``.
        norm_eval (bool): Keep BN layers in eval mode while training. Defaults to False.
        with_cp (bool): Gradient checkpointing in every block. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config. Defaults to the
            authors' one: conv weights normal with std ``sqrt(2 / (k * k * out_channels))``
            (Kaiming, fan-out), BN weight 1 and bias 0.

    Example:
        >>> import torch
        >>> from mmshallow.models import MobileNeXt
        >>> model = MobileNeXt(out_indices=(1, 2, 4, 7)).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 64))]
        [(1, 144, 16, 16), (1, 192, 8, 8), (1, 384, 4, 4), (1, 1280, 2, 2)]
    """

    #: the authors' (and the paper's) table: expand ratio t, channels c, blocks n, stride s
    layer_settings = [
        # t, c, n, s
        [2, 96, 1, 2],
        [6, 144, 1, 1],
        [6, 192, 3, 2],
        [6, 288, 3, 2],
        [6, 384, 4, 1],
        [6, 576, 4, 2],
        [6, 960, 3, 1],
        [6, 1280, 1, 1],
    ]
    widen_factors = (0.35, 0.5, 0.75, 1.0, 1.4)

    def __init__(self, widen_factor: float = 1.0, in_channels: int = 3,
                 identity_tensor_multiplier: float = 1.0, out_indices=(7, ),
                 frozen_stages: int = -1, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU6'), norm_eval: bool = False, with_cp: bool = False,
                 init_cfg=[
                     dict(type='Kaiming', layer='Conv2d', mode='fan_out',
                          nonlinearity='relu', distribution='normal'),
                     dict(type='Constant', val=1, bias=0, layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        if isinstance(widen_factor, bool) or widen_factor not in self.widen_factors:
            raise ValueError(
                f'widen_factor {widen_factor!r} not in MobileNeXt widen factors: '
                f'{", ".join(map(str, self.widen_factors))}')
        super().__init__(out_indices, len(self.layer_settings), frozen_stages, norm_eval,
                         init_cfg=init_cfg)
        self.widen_factor = widen_factor
        self.identity_tensor_multiplier = identity_tensor_multiplier
        self.with_cp = with_cp

        channels = make_divisible(32 * widen_factor, 8)
        self.stem = ConvModule(in_channels, channels, 3, 2, 1, norm_cfg=norm_cfg,
                               act_cfg=act_cfg)
        self.stages = nn.ModuleList()
        self.out_channels = []
        for t, c, n, s in self.layer_settings:
            out_channels = make_divisible(c * widen_factor, 8)
            if c == 1280 and widen_factor < 1:
                out_channels = 1280
            blocks = []
            for i in range(n):
                blocks.append(SandGlassBlock(
                    channels, out_channels, stride=s if i == 0 else 1, expand_ratio=t,
                    keep_3x3=i == 0 and n == 1 and s == 1,
                    identity_tensor_multiplier=identity_tensor_multiplier,
                    norm_cfg=norm_cfg, act_cfg=act_cfg, with_cp=with_cp))
                channels = out_channels
            self.stages.append(nn.Sequential(*blocks))
            self.out_channels.append(out_channels)
