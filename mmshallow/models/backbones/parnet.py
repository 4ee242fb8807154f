import torch.nn as nn

from mmshallow.registry import MODELS
from ..layers.parnet_blocks import ParNetDownsampleBlock, ParNetFusionBlock, RepVGGSSEBlock
from .base_backbone import BaseShallowBackbone


@MODELS.register_module()
class ParNet(BaseShallowBackbone):
    """ParNet backbone (Goyal et al., "Non-deep Networks", NeurIPS 2022), 12 layers deep.

    Layout of the official code: downsampling "inits" (3 -> 64 -> p1 at stride 4, then p2 at 8,
    p3 at 16); three parallel streams of 4/5/5 :class:`RepVGGSSEBlock` at strides 4/8/16;
    stream 0 is downsampled and fused (:class:`ParNetFusionBlock`) with stream 1 at stride 16,
    that result fused with stream 2 at stride 16 (stride-1 fusion), and a last downsampling
    block to p4 at stride 32. The longest path is 12 layers.

    Outputs (``out_indices``), shallow to deep: 0 stream 0 (stride 4, p1 channels), 1 stream 1
    (stride 8, p2), 2 the final fusion (stride 16, p3), 3 the last block (stride 32, p4).

    The paper uses SiLU; the released configs actually build ReLU (their
    ``additional_branches=[['swish']]`` never matches ``'swish'``), so official checkpoints were
    trained with ReLU: pass ``act_cfg=dict(type='ReLU')`` to evaluate them.

    Args:
        arch (str | dict): ``'s'``, ``'m'``, ``'l'``, ``'xl'`` (official widths p1-p4),
            ``'cifar'`` (S widths, no stem downsampling, for 32x32 inputs) or a dict
            with ``channels`` (4 ints) and optionally ``num_blocks`` (3 stream depths,
            default 4, 5, 5) and ``stem_strides`` (default (2, 2); (1, 1) for 32x32 inputs).
        in_channels (int): Input channels. Defaults to 3.
        out_indices (Sequence[int]): Outputs to return. Defaults to ``(-1, )``.
        frozen_stages (int): Freeze the inits of stride 4 (0) and the parts computing
            outputs ``0 .. frozen_stages - 1``; -1 freezes nothing. Defaults to -1.
        conv_cfg (dict, optional): Conv config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation. Defaults to ``dict(type='SiLU')``.
        norm_eval (bool): Keep BN layers in eval mode while training. Defaults to False.
        deploy (bool): Build the fused structure directly. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    arch_settings = {
        's': dict(channels=(92, 192, 384, 1280)),
        'm': dict(channels=(128, 256, 512, 2048)),
        'l': dict(channels=(160, 320, 640, 2560)),
        'xl': dict(channels=(200, 400, 800, 3200)),
        # 32x32 inputs (CIFAR): the paper reports CIFAR results for a depth-12 ParNet but
        # neither it nor the official code specify the model; ours keeps the ImageNet layout
        # and the S widths and drops the stem's two downsamplings, so the streams run at
        # 32/16/8 and the last block at 4 (as ResNet's CIFAR variants keep stride 1 early).
        'cifar': dict(channels=(92, 192, 384, 1280), stem_strides=(1, 1)),
    }
    required_arch_keys = ('channels', )
    optional_arch_keys = ('num_blocks', 'stem_strides')
    default_num_blocks = (4, 5, 5)

    def __init__(self, arch='s', in_channels=3, out_indices=(-1, ), frozen_stages=-1,
                 conv_cfg=None, norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'),
                 norm_eval=False, deploy=False,
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        arch = self.resolve_arch(arch)
        channels = tuple(arch['channels'])
        num_blocks = tuple(arch.get('num_blocks', self.default_num_blocks))
        stem_strides = tuple(arch.get('stem_strides', (2, 2)))
        if len(channels) != 4 or len(num_blocks) != 3:
            raise ValueError(f'ParNet arch needs 4 channels and 3 stream depths, got '
                             f'channels={channels}, num_blocks={num_blocks}')
        super().__init__(out_indices, 4, frozen_stages, norm_eval, deploy, init_cfg)
        self.arch = dict(channels=channels, num_blocks=num_blocks, stem_strides=stem_strides)
        self.out_channels = [channels[0], channels[1], channels[2], channels[3]]
        self.size_divisor = 8 * stem_strides[0] * stem_strides[1]
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, deploy=deploy)
        p1, p2, p3, p4 = channels
        stem = min(64, p1)

        self.inits = nn.ModuleList([
            nn.Sequential(ParNetDownsampleBlock(in_channels, stem, stem_strides[0], **layer),
                          ParNetDownsampleBlock(stem, p1, stem_strides[1], **layer)),
            ParNetDownsampleBlock(p1, p2, **layer),
            ParNetDownsampleBlock(p2, p3, **layer),
        ])
        self.streams = nn.ModuleList(
            nn.Sequential(*[RepVGGSSEBlock(c, conv_cfg, norm_cfg, act_cfg, deploy)
                            for _ in range(n)])
            for c, n in zip((p1, p2, p3), num_blocks))
        self.downsamples = nn.ModuleList([
            ParNetDownsampleBlock(p1, p2, **layer),
            ParNetFusionBlock(p2, p3, stride=2, **layer),
        ])
        self.final_fusion = ParNetFusionBlock(p3, p3, stride=1, **layer)
        self.final_downsample = ParNetDownsampleBlock(p3, p4, **layer)

    def frozen_parts(self):
        return [
            self.inits[0],
            self.streams[0],
            nn.ModuleList([self.inits[1], self.streams[1]]),
            nn.ModuleList([self.inits[2], self.streams[2], *self.downsamples,
                           self.final_fusion]),
            self.final_downsample,
        ]

    def forward(self, x):
        h, w = x.shape[-2:]
        if h % self.size_divisor or w % self.size_divisor:
            raise ValueError(
                f'ParNet input size {h}x{w} is not divisible by {self.size_divisor}: its '
                'stride-2 blocks average-pool 2x2 and need even maps at every scale; pad the '
                f'input (e.g. Pad with size_divisor={self.size_divisor})')
        x0 = self.inits[0](x)
        x1 = self.inits[1](x0)
        x2 = self.inits[2](x1)
        y0 = self.streams[0](x0)
        y1 = self.streams[1](x1)
        y2 = self.streams[2](x2)
        fused = self.final_fusion(y2, self.downsamples[1](y1, self.downsamples[0](y0)))
        outs = (y0, y1, fused)
        last = self.final_downsample(fused) if 3 in self.out_indices else None
        return tuple(([*outs, last])[i] for i in sorted(self.out_indices))
