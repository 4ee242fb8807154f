"""Multi-process training on the CPU (gloo) through mmengine's own DDP wrapper.

mmengine 0.10.7 assumes a GPU per process twice: ``init_dist`` calls
``torch.cuda.set_device(LOCAL_RANK)`` and the runner passes ``device_ids=[LOCAL_RANK]`` to its
DDP wrapper, which torch refuses for a model on the CPU. :func:`setup_cpu_distributed` (called
by ``tools/train.py`` before the runner is built) starts the gloo process group itself, so
mmengine skips ``init_dist``, and selects :class:`CPUDistributedDataParallel`. Nothing changes
when CUDA is available.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.model import MMDistributedDataParallel

from mmshallow.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops ``device_ids`` / ``output_device`` for a model
    on the CPU (torch's DDP takes them for single-GPU modules only)."""

    def __init__(self, module, detect_anomalous_params: bool = False, **kwargs):
        if all(p.device.type == 'cpu' for p in module.parameters()):
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        super().__init__(module=module, detect_anomalous_params=detect_anomalous_params,
                         **kwargs)


def setup_cpu_distributed(cfg, launcher: str) -> bool:
    """Prepare ``cfg`` for multi-process CPU training; return whether it did anything.

    Only for ``launcher='pytorch'`` (torchrun sets RANK, WORLD_SIZE, MASTER_ADDR/PORT) on a
    machine without CUDA. Starts the gloo process group and sets ``model_wrapper_cfg`` to
    :class:`CPUDistributedDataParallel` unless the config chose a wrapper.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(f'CPU-only distributed training supports launcher="pytorch" '
                           f'(tools/dist_train.sh, torchrun), got {launcher!r}')
    # nccl (the configs' default) needs GPUs
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo', rank=int(os.environ['RANK']),
                                      world_size=int(os.environ['WORLD_SIZE']))
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='CPUDistributedDataParallel', broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return True
