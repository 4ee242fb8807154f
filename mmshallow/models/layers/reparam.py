"""The one re-parameterization protocol and the walker that applies it to any model.

Protocol: a re-parameterizable module is built either train-time (several branches) or with
``deploy=True`` (the fused structure directly). ``switch_to_deploy()`` fuses it in place, sets
``deploy = True`` and does nothing the second time. Its fused layer lives under the attribute
named by ``fused_name``, which lets a load tell a train-time checkpoint from a deploy one.
"""
import inspect
import warnings
from typing import Optional

import torch.nn as nn
from mmengine.model import BaseModule, is_model_wrapper
from torch.nn.modules.batchnorm import _BatchNorm

CONVERT_TOOL = 'tools/reparameterize.py CONFIG CHECKPOINT OUT'


class NotFusableYetError(RuntimeError):
    """The module cannot be fused in its current state, e.g. VanillaNet before deep training
    has made the activation between two convs the identity. Training may go on; fusing later
    will work."""


class ReparamModule(BaseModule):
    """Base of every re-parameterizable module of mmshallow.

    Subclasses implement :meth:`_fuse`, which replaces the train-time branches by the fused
    layer(s) in place. They read ``self.deploy`` in ``forward``.

    Args:
        deploy (bool): Build the fused (inference) structure directly. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config. Defaults to None.
    """

    #: attribute holding the fused layer; ``None`` for containers (backbones, necks) that only
    #: fuse their children.
    fused_name: Optional[str] = 'fused_conv'

    def __init__(self, deploy: bool = False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.deploy = deploy

    def _fuse(self) -> None:
        raise NotImplementedError(f'{type(self).__name__} must implement _fuse()')

    def check_fusable(self) -> None:
        """Raise :class:`NotFusableYetError` if fusing now would change the outputs."""

    def switch_to_deploy(self) -> None:
        """Fuse in place (idempotent)."""
        if self.deploy:
            return
        self.check_fusable()
        self._fuse()
        self.deploy = True

    # timm's ``reparameterize_model`` looks for this name.
    def reparameterize(self) -> None:
        self.switch_to_deploy()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        if self.fused_name is not None:
            fused_prefix = f'{prefix}{self.fused_name}.'
            has_fused = f'{fused_prefix}weight' in state_dict
            if not self.deploy and has_fused:
                raise RuntimeError(
                    f'{type(self).__name__} at "{prefix.rstrip(".")}": the checkpoint holds '
                    'fused (deploy) weights but the model was built train-time; build it with '
                    'deploy=True (the *_deploy configs) to load a deploy checkpoint')
            if self.deploy and not has_fused and any(
                    k.startswith(prefix) and not k.startswith(fused_prefix) for k in state_dict):
                raise RuntimeError(
                    f'{type(self).__name__} at "{prefix.rstrip(".")}": the checkpoint holds '
                    'train-time (multi-branch) weights but the model was built with '
                    f'deploy=True; convert the checkpoint first with {CONVERT_TOOL}, or build '
                    'the model with deploy=False')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class ReparamContainer(ReparamModule):
    """A re-parameterizable module that only fuses its children (a backbone, a neck).

    ``switch_to_deploy()`` on it fuses everything below, so tools that fuse only
    ``model.backbone`` (mmdeploy) or call ``switch_to_deploy`` on the neck work too.
    """

    fused_name = None

    def _fuse(self) -> None:
        reparameterize_children(self)


def _takes_no_arguments(method) -> bool:
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def _fuse_module(module: nn.Module) -> Optional[nn.Module]:
    """Fuse one module by whichever protocol it follows; return a replacement, if any.

    OpenMMLab's ``switch_to_deploy()`` (mmshallow, mmpretrain, mmyolo) comes first, then timm's
    in-place ``reparameterize()`` and timm's ``fuse()``, which returns a new module.
    """
    for name in ('switch_to_deploy', 'reparameterize'):
        method = getattr(module, name, None)
        if callable(method) and _takes_no_arguments(method):
            method()
            return None
    method = getattr(module, 'fuse', None)
    if callable(method) and _takes_no_arguments(method):
        result = method()
        if isinstance(result, nn.Module) and result is not module:
            return result
    return None


def reparameterize_children(module: nn.Module) -> None:
    """Fuse every re-parameterizable module below ``module`` (not ``module`` itself)."""
    for name, child in list(module.named_children()):
        replacement = _fuse_module(child)
        if replacement is not None:
            setattr(module, name, replacement)
            child = replacement
        reparameterize_children(child)


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside a wrapper (DDP, MMDistributedDataParallel, ...), else ``model``."""
    return model.module if is_model_wrapper(model) or isinstance(
        model, nn.parallel.DistributedDataParallel) else model


def reparameterize(model: nn.Module) -> nn.Module:
    """Fuse every re-parameterizable module inside ``model``, in place; return ``model``.

    Works on a backbone, a neck, a whole mmdet detector or mmpretrain classifier and on
    wrapped models (DDP, MMDistributedDataParallel). Idempotent. Call it in eval mode only after
    training: fusion uses the BatchNorm running statistics and cannot be undone; a model in
    ``train()`` mode (a BatchNorm in training mode) gets a warning, since its unfused BNs
    normalize with batch statistics, which the fused convs do not.

    Raises:
        TypeError: if ``model`` is not an ``nn.Module``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f'reparameterize(model) takes an nn.Module (a backbone, neck, whole '
                        f'or wrapped model), got {type(model).__name__}')
    root = unwrap_model(model)
    if any(m.training for m in root.modules() if isinstance(m, _BatchNorm)):
        warnings.warn(
            f'reparameterize: the {type(root).__name__} is in train() mode, where its '
            'BatchNorms use batch statistics; the fused model equals the unfused one only in '
            'eval mode: call model.eval() first', UserWarning, stacklevel=2)
    replacement = _fuse_module(root)
    if replacement is not None:
        raise TypeError(
            f'{type(root).__name__}.fuse() returns a new module; reparameterize fuses in place, '
            'so call it on the model that contains this module')
    reparameterize_children(root)
    return model
