"""Mixed precision on the CPU.

mmengine's ``AmpOptimWrapper`` refuses to start without a GPU (it asserts CUDA, NPU, MLU or
MUSA). On the CPU, autocast runs in bfloat16, which has float32's exponent range and needs no
loss scaling: :class:`CPUAmpOptimWrapper` is a plain ``OptimWrapper`` whose forward runs under
``torch.autocast('cpu', dtype=torch.bfloat16)``. ``tools/train.py --amp`` picks it when CUDA
is not available and mmengine's ``AmpOptimWrapper`` otherwise.
"""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmshallow.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` with the forward pass under CPU autocast.

    Args:
        dtype (str): ``'bfloat16'`` (default) or ``'float16'`` (slow on most CPUs).
        **kwargs: as ``OptimWrapper`` (optimizer, accumulative_counts, clip_grad).
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs):
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"CPUAmpOptimWrapper dtype must be 'bfloat16' or 'float16', "
                             f'got {dtype!r}')
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
