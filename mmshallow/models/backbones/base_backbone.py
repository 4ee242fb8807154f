from typing import List, Sequence, Tuple, Union

import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..layers.reparam import ReparamContainer


class BaseShallowBackbone(ReparamContainer):
    """What every mmshallow backbone shares: ``out_indices``, ``frozen_stages``, ``norm_eval``
    and ``switch_to_deploy`` over all of its re-parameterizable children.

    Subclasses list their freezable parts, in order, from :meth:`frozen_parts`: part 0 is the
    stem, part ``i`` the ``i``-th stage, and ``frozen_stages = k`` freezes parts ``0..k``. The
    default is a ``stem`` and the ``stages`` run in sequence (:meth:`forward`).
    """

    #: name -> settings dict; ``arch`` may be one of these names or a settings dict
    arch_settings: dict = {}
    #: the keys an arch dict must have, and those it may have besides
    required_arch_keys: Tuple[str, ...] = ()
    optional_arch_keys: Tuple[str, ...] = ()

    @classmethod
    def resolve_arch(cls, arch) -> dict:
        """The settings of ``arch``: a name in ``arch_settings``, or a dict with every one of
        ``required_arch_keys`` and nothing but those and ``optional_arch_keys``."""
        if isinstance(arch, str):
            if arch not in cls.arch_settings:
                raise ValueError(f'arch {arch!r} not in {cls.__name__} archs: '
                                 f'{", ".join(cls.arch_settings)}')
            return cls.arch_settings[arch]
        required = cls.required_arch_keys
        if not isinstance(arch, dict) or not set(required) <= set(arch):
            raise TypeError(f'arch must be a name in {cls.__name__}.arch_settings or a dict '
                            f'with {" and ".join(required)}, got {arch!r}')
        allowed = (*required, *cls.optional_arch_keys)
        unknown = [key for key in arch if key not in allowed]
        if unknown:
            raise TypeError(f'{cls.__name__} arch dict has unknown key(s) '
                            f'{", ".join(map(str, unknown))}: allowed {", ".join(allowed)}')
        return arch

    def __init__(self, out_indices: Union[int, Sequence[int]], num_stages: int,
                 frozen_stages: int = -1, norm_eval: bool = False, deploy: bool = False,
                 init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.num_stages = num_stages
        self.out_indices = self._parse_out_indices(out_indices, num_stages)
        if not isinstance(frozen_stages, int) or not -1 <= frozen_stages <= num_stages:
            raise ValueError(
                f'frozen_stages {frozen_stages!r} out of range for {type(self).__name__} with '
                f'{num_stages} stages: allowed -1 (none), 0 (stem) .. {num_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

    def _parse_out_indices(self, out_indices, num_stages: int) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        if isinstance(out_indices, str) or not isinstance(out_indices, Sequence) or \
                not out_indices:
            raise TypeError(f'out_indices must be an int or a non-empty sequence of ints, '
                            f'got {out_indices!r}')
        parsed = []
        for index in out_indices:
            if not isinstance(index, int) or not -num_stages <= index < num_stages:
                raise ValueError(
                    f'out_indices {index!r} out of range for {type(self).__name__} with '
                    f'{num_stages} stages: allowed {-num_stages}..{num_stages - 1}')
            parsed.append(index % num_stages)
        return tuple(parsed)

    def frozen_parts(self) -> List[nn.Module]:
        return [self.stem, *self.stages]

    def forward(self, x):
        return self.forward_stages(self.stem(x), self.stages)

    def forward_stages(self, x, stages) -> Tuple:
        """Run ``stages`` in sequence; return the outputs at ``out_indices``, shallow first."""
        outs = []
        for i, stage in enumerate(stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self):
        for part in self.frozen_parts()[:self.frozen_stages + 1]:
            part.eval()
            for param in part.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
