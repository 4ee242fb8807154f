"""The family catalogue: the one place that says, for each family mmshallow ships, which
backbone class builds it, its archs, its official ImageNet classifier (neck / head), the
papers' numbers with their source, the weights converter and the configs.

Every table (``tools/model_zoo.py``, ``tools/benchmark.py``, ``tools/complexity.py``, the
metafiles' checks, ``configs/<family>/README.md``) and the parametrized tests read it, so a
model has one definition of its train-time parameters, deploy parameters and FLOPs
(:mod:`mmshallow.analysis`) and one paper figure. A new family gets its tables and its
backbone-contract tests by being listed in :data:`FAMILIES`.

Example:
    >>> from mmshallow.models.catalogue import get_family, parse_model_name
    >>> family, arch = parse_model_name('repvgg:A0')
    >>> family.paper['A0'].top1
    72.41
    >>> model = family.build_classifier('A0')  # backbone + GAP + 1000-class FC
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch.nn as nn

from mmshallow.registry import MODELS


@dataclass(frozen=True)
class PaperNumbers:
    """What a paper (or its official repository) publishes for one arch.

    Attributes:
        top1 (float, optional): ImageNet-1k top-1 (%) as a number (plots, metafile Results).
        top1_text (str, optional): The same as published, with its caveat (``'~75.2'``,
            ``'80.52 (200 ep)'``); defaults to ``top1`` with two decimals.
        params_m (float, optional): Parameters of the deploy model (M) as published.
        flops_g (float, optional): FLOPs / MACs of the deploy model (G) as published.
    """
    top1: Optional[float] = None
    top1_text: Optional[str] = None
    params_m: Optional[float] = None
    flops_g: Optional[float] = None

    @property
    def top1_label(self) -> Optional[str]:
        if self.top1_text is not None:
            return self.top1_text
        return None if self.top1 is None else f'{self.top1:.2f}'


def _p(top1=None, params=None, flops=None, text=None) -> PaperNumbers:
    return PaperNumbers(top1=top1, top1_text=text, params_m=params, flops_g=flops)


class Classifier(nn.Module):
    """A backbone as an image classifier: ``backbone -> neck -> fc`` on the backbone's last
    output, the form of the papers' parameter counts and of the benchmarks.

    The defaults are the plain form: global average pool and a ``num_classes`` FC. A family
    whose official classifier differs passes its own ``neck`` (taking and returning a tuple,
    like OpenMMLab necks) and ``fc`` (``None`` when the neck already gives the logits).

    Args:
        backbone (nn.Module): A backbone with ``out_channels`` (its outputs' channels).
        num_classes (int): Classes of the default FC. Defaults to 1000.
        neck (nn.Module, optional): Replaces the global average pool. Defaults to None.
        fc (nn.Module | str): The classifier after the neck, ``'linear'`` for a
            ``num_classes`` FC on the backbone's last channels, or None. Defaults to
            ``'linear'``.
    """

    def __init__(self, backbone: nn.Module, num_classes: int = 1000,
                 neck: Optional[nn.Module] = None, fc='linear'):
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.pool = nn.AdaptiveAvgPool2d(1) if neck is None else None
        if isinstance(fc, str):
            if fc != 'linear':
                raise ValueError(f"fc must be a module, None or 'linear', got {fc!r}")
            fc = nn.Linear(backbone.out_channels[-1], num_classes)
        self.fc = fc

    def forward(self, x):
        feats = self.backbone(x)
        out = self.pool(feats[-1]) if self.neck is None else self.neck(feats)[-1]
        out = out.flatten(1)
        return out if self.fc is None else self.fc(out)


@dataclass(frozen=True)
class Family:
    """One family of backbones: how to build it and what its papers say.

    Attributes:
        key (str): Lower-case name used in tools and model names (``'repvgg'``).
        title (str): Display name (``'RepVGG'``).
        backbone_type (str): Registered name in the ``mmshallow`` scope.
        paper_title (str): Title of the paper.
        paper_url (str): Where to read it.
        code_url (str): The official code.
        top1_source (str): Where the ``paper`` top-1 figures come from.
        paper (dict[str, PaperNumbers]): Per arch, the published numbers; every arch the
            backbone class has is listed (a test checks it).
        classifier (str): The official ImageNet classifier on top of the backbone:
            ``'linear'`` (global average pool + FC), ``'vanillanet'`` (VanillaNet's 1x1-conv
            classifier) or ``'ghostnet'`` (GhostNet's ``conv_head`` + FC).
        test_arch (str): A small arch for the tests.
        arch_argument (str): The backbone argument naming the arch (``'arch'``;
            MobileNeXt's archs are ``widen_factor`` values).
        converter (str, optional): ``tools/model_converters/`` script for official weights.
        configs (dict[str, tuple[str, ...]]): Per arch, its ImageNet configs (train, deploy).
        input_sizes (dict[str, int]): Archs whose native input is not 224.
    """
    key: str
    title: str
    backbone_type: str
    paper_title: str
    paper_url: str
    code_url: str
    top1_source: str
    paper: Dict[str, PaperNumbers]
    classifier: str = 'linear'
    test_arch: str = ''
    arch_argument: str = 'arch'
    converter: Optional[str] = None
    configs: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    input_sizes: Dict[str, int] = field(default_factory=dict)

    @property
    def backbone_class(self) -> type:
        # The class itself, not MODELS.build: a build resolves names in the current default
        # scope, where a host codebase's module of the same name (mmpretrain's RepVGG) wins.
        return MODELS.get(self.backbone_type)

    @property
    def archs(self) -> List[str]:
        """The arch names the backbone class accepts, in its own order."""
        cls = self.backbone_class
        if self.arch_argument == 'widen_factor':
            return [str(w) for w in cls.widen_factors]
        return list(cls.arch_settings)

    def check_arch(self, arch: str) -> str:
        if arch not in self.archs:
            raise ValueError(f'arch {arch!r} not in {self.title} archs: '
                             f'{", ".join(self.archs)}')
        return arch

    def input_size(self, arch: str) -> int:
        """The arch's native (square) input side: 224 unless listed in ``input_sizes``."""
        return self.input_sizes.get(arch, 224)

    def build_backbone(self, arch: Optional[str] = None, **kwargs) -> nn.Module:
        """The backbone of ``arch`` (default :attr:`test_arch`) with ``kwargs``."""
        arch = self.check_arch(self.test_arch if arch is None else arch)
        value = float(arch) if self.arch_argument == 'widen_factor' else arch
        return self.backbone_class(**{self.arch_argument: value}, **kwargs)

    def build_classifier(self, arch: Optional[str] = None, num_classes: int = 1000,
                         deploy: bool = False) -> Classifier:
        """The train-time (or ``deploy``) classifier of ``arch`` with the family's official
        ImageNet classifier, as the papers count it."""
        backbone = self.build_backbone(arch, **(dict(deploy=True) if deploy else {}))
        channels = backbone.out_channels[-1]
        if self.classifier == 'vanillanet':
            neck = MODELS.get('VanillaNetClassifier')(channels, num_classes, deploy=deploy)
            return Classifier(backbone, neck=neck, fc=None)
        if self.classifier == 'ghostnet':
            neck = MODELS.get('GhostNetClsNeck')(channels, 1280,
                                                 act_cfg=backbone.arch['act_cfg'])
            return Classifier(backbone, neck=neck, fc=nn.Linear(1280, num_classes))
        return Classifier(backbone, num_classes)


REPVGG_PAPER = {
    'A0': _p(72.41, 8.30, 1.4), 'A1': _p(74.46, 12.78, 2.4), 'A2': _p(76.48, 25.49, 5.1),
    'B0': _p(75.14, 14.33, 3.1), 'B1': _p(78.37, 51.82, 11.8), 'B1g2': _p(77.78, 41.36, 8.8),
    'B1g4': _p(77.58, 36.12, 7.3), 'B2': _p(78.78, 80.31, 18.4), 'B2g2': _p(),
    'B2g4': _p(78.50, 55.77, 11.3, text='78.50 (79.38, 200 ep)'),
    'B3': _p(80.52, 110.96, 26.2, text='80.52 (200 ep)'), 'B3g2': _p(),
    'B3g4': _p(80.21, 75.62, 16.1, text='80.21 (200 ep)'),
    'D2se': _p(81.82, text='81.82 (README, 224)'),
}

FAMILIES: Dict[str, Family] = {f.key: f for f in [
    Family(
        key='repvgg', title='RepVGG', backbone_type='RepVGG',
        paper_title='RepVGG: Making VGG-style ConvNets Great Again',
        paper_url='https://arxiv.org/abs/2101.03697',
        code_url='https://github.com/DingXiaoH/RepVGG',
        top1_source='paper Tables 4-5 (120 epochs unless noted; D2se: official README)',
        paper=REPVGG_PAPER, test_arch='A0', converter='repvgg_to_mmshallow.py',
        configs={'A0': ('configs/repvgg/repvgg-a0_8xb32_in1k.py',
                        'configs/repvgg/repvgg-a0_deploy_in1k.py'),
                 'B1': ('configs/repvgg/repvgg-b1_8xb32_in1k.py',
                        'configs/repvgg/repvgg-b1_deploy_in1k.py')}),
    Family(
        key='qarepvgg', title='QARepVGG', backbone_type='QARepVGG',
        paper_title='Make RepVGG Greater Again: A Quantization-aware Approach',
        paper_url='https://arxiv.org/abs/2212.01593',
        code_url='https://github.com/meituan/YOLOv6',
        top1_source='no ImageNet figures taken over (the deploy models are RepVGG\'s)',
        paper={arch: _p(params=p.params_m, flops=p.flops_g) for arch, p in REPVGG_PAPER.items()},
        test_arch='A0',
        configs={'A0': ('configs/qarepvgg/qarepvgg-a0_8xb32_in1k.py',
                        'configs/qarepvgg/qarepvgg-a0_deploy_in1k.py')}),
    Family(
        key='parnet', title='ParNet', backbone_type='ParNet',
        paper_title='Non-deep Networks',
        paper_url='https://arxiv.org/abs/2110.07641',
        code_url='https://github.com/imankgoyal/NonDeepNetworks',
        top1_source='official README figure (read off the plot)',
        paper={'s': _p(75.2, 19.0, text='~75.2'), 'm': _p(76.6, 35.6, text='~76.6'),
               'l': _p(77.7, 54.9, text='~77.7'), 'xl': _p(78.6, 85.0, text='~78.6'),
               'cifar': _p(text='CIFAR-10 96.12 / CIFAR-100 81.35 (paper)')},
        test_arch='s', converter='parnet_to_mmshallow.py', input_sizes={'cifar': 32}),
    Family(
        key='vanillanet', title='VanillaNet', backbone_type='VanillaNet',
        paper_title='VanillaNet: the Power of Minimalism in Deep Learning',
        paper_url='https://arxiv.org/abs/2305.12972',
        code_url='https://github.com/huawei-noah/VanillaNet',
        top1_source='official README',
        paper={'5': _p(72.49, 15.5, 5.2), '6': _p(76.36, 32.5, 6.0), '7': _p(77.98, 32.8, 6.9),
               '8': _p(79.13, 37.1, 7.7), '9': _p(79.87, 41.4, 8.6), '10': _p(80.57, 45.7, 9.4),
               '11': _p(81.08, 50.0, 10.3), '12': _p(81.55, 54.3, 11.1),
               '13': _p(82.05, 58.6, 11.9), '13-1.5x': _p(82.53, 127.8, 26.5),
               '13-1.5x-ada': _p(83.11, 127.8, 48.9)},
        classifier='vanillanet', test_arch='5', converter='vanillanet_to_mmshallow.py',
        configs={'5': ('configs/vanillanet/vanillanet-5_8xb128_in1k.py',
                       'configs/vanillanet/vanillanet-5_deploy_in1k.py'),
                 '13': ('configs/vanillanet/vanillanet-13_8xb128_in1k.py',
                        'configs/vanillanet/vanillanet-13_deploy_in1k.py'),
                 '13-1.5x': ('configs/vanillanet/vanillanet-13-1.5x_8xb128_in1k.py',
                             'configs/vanillanet/vanillanet-13-1.5x_deploy_in1k.py')}),
    Family(
        key='parameternet', title='ParameterNet', backbone_type='ParameterNet',
        paper_title='ParameterNet: Parameters Are All You Need for Large-scale Visual '
                    'Pretraining of Mobile Networks',
        paper_url='https://arxiv.org/abs/2306.14525',
        code_url='https://github.com/huawei-noah/Efficient-AI-Backbones',
        top1_source='paper Fig. 1, ImageNet-1k training, read off the plot (22K pre-training: '
                    'paper text); GhostNet: its README',
        paper={'ghostnet-1.0x': _p(73.98, 5.2, 0.141, text='73.98 (GhostNet README)'),
               'parameternet-300m': _p(77.2, flops=0.3, text='~77.2 (1K) / 79.1 (22K)'),
               'parameternet-600m': _p(79.0, flops=0.6, text='~79.0 (1K) / 81.6 (22K)')},
        classifier='ghostnet', test_arch='ghostnet-1.0x',
        configs={'parameternet-600m': (
            'configs/parameternet/parameternet-600m_8xb128_in1k.py',
            'configs/parameternet/parameternet-600m_deploy_in1k.py')}),
    Family(
        key='mobilenext', title='MobileNeXt', backbone_type='MobileNeXt',
        paper_title='Rethinking Bottleneck Structure for Efficient Mobile Network Design',
        paper_url='https://arxiv.org/abs/2007.02269',
        code_url='https://github.com/yitu-opensource/MobileNeXt',
        top1_source="authors' README",
        paper={'0.35': _p(64.7, 1.8, 0.080), '0.5': _p(67.7, 2.1, 0.110),
               '0.75': _p(72.0, 2.5, 0.210), '1.0': _p(74.02, 3.5, 0.300),
               '1.4': _p(76.1, 6.1, 0.590)},
        test_arch='0.35', arch_argument='widen_factor',
        configs={'1.0': ('configs/mobilenext/mobilenext-1.0_8xb32_in1k.py', )}),
]}


def get_family(key: str) -> Family:
    """The catalogue entry of ``key`` (``'repvgg'``, ...), with a clear error otherwise."""
    if key not in FAMILIES:
        raise ValueError(f'family {key!r} not in the catalogue: {", ".join(FAMILIES)}')
    return FAMILIES[key]


def parse_model_name(name: str) -> Tuple[Family, str]:
    """``'family:arch'`` (``'repvgg:A0'``, ``'mobilenext:1.0'``) -> (family, arch)."""
    key, _, arch = name.partition(':')
    if key not in FAMILIES or not arch:
        raise ValueError(f'model {name!r}: expected family:arch with family one of '
                         f'{", ".join(FAMILIES)}')
    family = FAMILIES[key]
    try:
        family.check_arch(arch)
    except ValueError as err:
        raise ValueError(f'model {name!r}: {err}') from None
    return family, arch
