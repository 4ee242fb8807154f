import torch.nn as nn

from mmshallow.registry import MODELS
from ..layers import RepVGGBlock
from .base_backbone import BaseShallowBackbone

# The official code groups the convs of global layers 2, 4, ..., 26 (the stem is layer 0).
_EVEN_LAYERS = tuple(range(2, 27, 2))


def _arch(num_blocks, width_factor, groups=1, se_ratio=None):
    group_layers = {layer: groups for layer in _EVEN_LAYERS} if groups > 1 else {}
    return dict(num_blocks=num_blocks, width_factor=width_factor,
                group_layers=group_layers, se_ratio=se_ratio)


@MODELS.register_module()
class RepVGG(BaseShallowBackbone):
    """RepVGG backbone (Ding et al., "RepVGG: Making VGG-style ConvNets Great Again", CVPR 2021).

    A stem block and four stages of :class:`RepVGGBlock`; the first block of each stage has
    stride 2 (see ``strides``). Stage widths are ``64a, 128a, 256a, 512b`` for
    ``width_factor = (a, a, a, b)``, the stem ``min(64, 64a)``. After :meth:`switch_to_deploy`
    (or with ``deploy=True``) every block is one 3x3 conv + ReLU (+ SE for D2se).

    Args:
        arch (str | dict): One of ``RepVGG.arch_settings`` or a dict with ``num_blocks``
            (4 ints), ``width_factor`` (4 floats), and optionally ``group_layers``
            (dict: global layer index -> groups) and ``se_ratio``.
        in_channels (int): Input channels. Defaults to 3.
        base_channels (int): Width of the first stage for ``a = 1``. Defaults to 64.
        out_indices (Sequence[int]): Stages whose outputs are returned; negative indices count
            from the last stage. Defaults to ``(-1, )`` (the last stage).
        frozen_stages (int): Freeze the stem (0) and the first ``frozen_stages`` stages;
            -1 freezes nothing. Defaults to -1.
        conv_cfg (dict, optional): Conv layer config. Defaults to None.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        norm_eval (bool): Keep BN layers in eval mode while training. Defaults to False.
        with_cp (bool): Gradient checkpointing in every block. Defaults to False.
        deploy (bool): Build the fused structure directly. Defaults to False.
        strides (Sequence[int], optional): Stride of the first block of each stage, 1 or 2.
            Defaults to None: 2 in every stage (output stride 32, the paper's network).
        dilations (Sequence[int], optional): Dilation of the 3x3 convs of every block of each
            stage. Defaults to None: 1 in every stage. The official segmentation example
            (``example_pspnet.py``) uses ``strides=(2, 2, 1, 1)``, ``dilations=(1, 1, 2, 4)``:
            output stride 8, still one 3x3 conv per layer after fusion.
        init_cfg (dict | list[dict], optional): Initialization config.

    Example:
        >>> import torch
        >>> from mmshallow.models import RepVGG
        >>> model = RepVGG('A0', out_indices=(0, 1, 2, 3)).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 64))]
        [(1, 48, 16, 16), (1, 96, 8, 8), (1, 192, 4, 4), (1, 1280, 2, 2)]
    """

    arch_settings = {
        'A0': _arch([2, 4, 14, 1], [0.75, 0.75, 0.75, 2.5]),
        'A1': _arch([2, 4, 14, 1], [1, 1, 1, 2.5]),
        'A2': _arch([2, 4, 14, 1], [1.5, 1.5, 1.5, 2.75]),
        'B0': _arch([4, 6, 16, 1], [1, 1, 1, 2.5]),
        'B1': _arch([4, 6, 16, 1], [2, 2, 2, 4]),
        'B1g2': _arch([4, 6, 16, 1], [2, 2, 2, 4], groups=2),
        'B1g4': _arch([4, 6, 16, 1], [2, 2, 2, 4], groups=4),
        'B2': _arch([4, 6, 16, 1], [2.5, 2.5, 2.5, 5]),
        'B2g2': _arch([4, 6, 16, 1], [2.5, 2.5, 2.5, 5], groups=2),
        'B2g4': _arch([4, 6, 16, 1], [2.5, 2.5, 2.5, 5], groups=4),
        'B3': _arch([4, 6, 16, 1], [3, 3, 3, 5]),
        'B3g2': _arch([4, 6, 16, 1], [3, 3, 3, 5], groups=2),
        'B3g4': _arch([4, 6, 16, 1], [3, 3, 3, 5], groups=4),
        'D2se': _arch([8, 14, 24, 1], [2.5, 2.5, 2.5, 5], se_ratio=16),
    }

    required_arch_keys = ('num_blocks', 'width_factor')
    optional_arch_keys = ('group_layers', 'se_ratio')

    #: the block every layer is built from (QARepVGG swaps it)
    block_type = RepVGGBlock

    def __init__(self, arch='A0', in_channels: int = 3, base_channels: int = 64,
                 out_indices=(-1, ), frozen_stages: int = -1, conv_cfg=None,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'), norm_eval: bool = False,
                 with_cp: bool = False, deploy: bool = False, strides=None, dilations=None,
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        arch = self.resolve_arch(arch)
        num_blocks, width_factor = arch['num_blocks'], arch['width_factor']
        if len(num_blocks) != len(width_factor):
            raise ValueError(f'arch num_blocks {num_blocks} and width_factor {width_factor} '
                             'must have the same length')
        super().__init__(out_indices, len(num_blocks), frozen_stages, norm_eval, deploy,
                         init_cfg)
        num_stages = len(num_blocks)
        self.strides = self._per_stage('strides', (2, ) * num_stages if strides is None
                                       else strides, num_stages, allowed=(1, 2))
        self.dilations = self._per_stage('dilations', (1, ) * num_stages if dilations is None
                                         else dilations, num_stages)
        self.arch = arch
        group_layers = arch.get('group_layers') or {}
        block = dict(se_ratio=arch.get('se_ratio'), conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                     act_cfg=act_cfg, with_cp=with_cp, deploy=deploy)

        channels = min(base_channels, int(base_channels * width_factor[0]))
        self.stem = self.block_type(in_channels, channels, stride=2, **block)
        self.stages = nn.ModuleList()
        layer = 1
        self.out_channels = []
        for i, (n, factor) in enumerate(zip(num_blocks, width_factor)):
            out_channels = int(base_channels * 2**i * factor)
            blocks = []
            for j in range(n):
                blocks.append(self.block_type(
                    channels, out_channels, stride=self.strides[i] if j == 0 else 1,
                    groups=group_layers.get(layer, 1), dilation=self.dilations[i], **block))
                channels = out_channels
                layer += 1
            self.stages.append(nn.Sequential(*blocks))
            self.out_channels.append(out_channels)

    @classmethod
    def _per_stage(cls, name: str, values, num_stages: int, allowed=None) -> tuple:
        """``values`` checked as one positive int per stage (and within ``allowed``)."""
        values = tuple(values) if isinstance(values, (list, tuple)) else values
        if not isinstance(values, tuple) or len(values) != num_stages or not all(
                isinstance(v, int) and v >= 1 and (allowed is None or v in allowed)
                for v in values):
            what = f'one of {", ".join(map(str, allowed))}' if allowed else 'an int >= 1'
            raise ValueError(f'{cls.__name__} {name} must give {num_stages} values (one per '
                             f'stage), each {what}; got {values!r}')
        return values
