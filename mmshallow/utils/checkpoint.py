"""The one writer of mmshallow's weights-only checkpoints: the deploy checkpoints of
``ReparamHook`` and ``tools/reparameterize.py``, and the official checkpoints converted by
``tools/model_converters/``."""
import os
import os.path as osp
from collections import OrderedDict
from typing import Mapping, Optional, Union

import torch.nn as nn

from ..version import __version__


def save_weights_checkpoint(weights: Union[nn.Module, Mapping], path: str,
                            meta: Optional[Mapping] = None, deploy: bool = True) -> str:
    """Write ``dict(meta=..., state_dict=...)``, the form mmengine's ``load_checkpoint`` and
    ``load_from`` read, with every tensor on the CPU.

    ``meta`` gets ``deploy`` (whether the weights are the fused layout, for the ``deploy=True``
    variant of a config) and ``mmshallow_version``. A local file is written atomically: to a
    temporary file in the same folder, then renamed over ``path``, so that an interrupted write
    never leaves a truncated checkpoint behind; other backends (``s3://``, ...) are written
    through mmengine's file backend, as mmengine's own checkpoints.

    Args:
        weights (nn.Module | Mapping): a model (its ``state_dict()`` is written) or a state
            dict.
        path (str): where to write; its folder is created if missing.
        meta (Mapping, optional): the checkpoint's ``meta`` (copied; ``epoch``, ``iter``,
            ``dataset_meta``, ``converted_from``, ...).
        deploy (bool): the weights are fused (deploy layout). Defaults to True.

    Returns:
        str: ``path``.
    """
    from mmengine.fileio import LocalBackend, get_file_backend
    from mmengine.runner.checkpoint import save_checkpoint, weights_to_cpu

    state_dict = weights.state_dict() if isinstance(weights, nn.Module) else weights
    if not isinstance(state_dict, Mapping):
        raise TypeError(f'save_weights_checkpoint: weights must be an nn.Module or a state '
                        f'dict (a mapping of names to tensors), got {type(weights).__name__}')
    if not isinstance(state_dict, OrderedDict):  # mmengine's weights_to_cpu keeps _metadata
        state_dict = OrderedDict(state_dict)
    meta = dict(meta or {})
    meta.update(deploy=deploy, mmshallow_version=__version__)
    checkpoint = dict(meta=meta, state_dict=weights_to_cpu(state_dict))
    path = str(path)
    if not isinstance(get_file_backend(path), LocalBackend):
        save_checkpoint(checkpoint, path)
        return path
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    partial = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.partial')
    try:
        save_checkpoint(checkpoint, partial)
        os.replace(partial, path)
    finally:
        if osp.exists(partial):
            os.remove(partial)
    return path
