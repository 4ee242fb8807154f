"""The fastest CPU inference path in PyTorch for a fused mmshallow model."""
import warnings
from typing import Optional

import torch
import torch.nn as nn

from .models import reparameterize
from .models.layers.fold_bn import fold_batchnorms
from .utils.numerics import relative_error

BACKENDS = ('eager', 'torchscript', 'inductor')


def _compile_with_inductor(model: nn.Module, example_input: torch.Tensor):
    """``(compiled model, '')``, or ``(None, why)`` where torch.compile cannot run here (no
    C++ compiler, a torch without inductor or without weight freezing, a failing compile)."""
    try:
        import torch._inductor.config as inductor_config
    except ImportError as err:
        return None, f'torch {torch.__version__} has no inductor: {err}'
    if not hasattr(inductor_config, 'freezing'):
        return None, f'torch {torch.__version__} inductor cannot freeze weights'
    try:
        compiled = torch.compile(model, dynamic=False)
        with inductor_config.patch(freezing=True):
            compiled(example_input)  # compile now, with the weights frozen in
    except Exception as err:  # noqa: BLE001 - dynamo/inductor raise many types
        torch._dynamo.reset()
        first = str(err).strip().splitlines()
        return None, f'torch.compile failed: {type(err).__name__}: {first[0] if first else ""}'
    return compiled, ''


@torch.no_grad()
def optimize_for_inference(model: nn.Module, example_input: Optional[torch.Tensor] = None,
                           backend: str = 'torchscript', channels_last: bool = True
                           ) -> nn.Module:
    """Make ``model`` (a backbone, a classifier in tensor mode, any module that maps a batch
    tensor to tensors) as fast as PyTorch can run it on the CPU, with the same outputs.

    Always:

    1. :func:`reparameterize`: every multi-branch block becomes one conv (in place).
    2. :func:`fold_batchnorms`: the conv + BN pairs left (mmcv ``ConvModule`` s of necks and
       heads) fold into their conv (in place); other BNs stay for the compiler to fold.
    3. ``channels_last``: 4-D weights in NHWC, the layout oneDNN's convs run fastest in; feed
       ``x.contiguous(memory_format=torch.channels_last)``.

    Then, by ``backend`` (``example_input``, a batch like the real ones, is needed by the last
    two):

    * ``'eager'``: nothing more; returns the module.
    * ``'torchscript'`` (default): trace, freeze (weights become constants) and
      ``torch.jit.optimize_for_inference`` (each conv fused with its bias, add and ReLU into one
      oneDNN primitive). Returns a ``ScriptModule``, valid for any batch and image size. A
      model whose traced graph depends on the batch size (ParameterNet's dynamic convs) is
      caught by a check at another batch size and returned eager, with a warning.
    * ``'inductor'``: ``torch.compile`` with weight freezing (C++ kernels, oneDNN weight
      prepacking); compiled here on ``example_input`` (seconds to a minute), recompiled on a
      new input shape. Usually the fastest; needs a C++ compiler. Where it cannot compile
      (no compiler, a torch without inductor weight freezing), a warning names why and the
      TorchScript backend is used.

    The outputs equal the fused model's up to float rounding (tests: relative error <= 1e-5).
    Fusion cannot be undone: do this on a copy if the model is still needed for training.
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend {backend!r} not in {BACKENDS}')
    if backend != 'eager' and example_input is None:
        raise ValueError(f'optimize_for_inference(backend={backend!r}) compiles the model on '
                         "an example: pass example_input (a batch like the real ones), or use "
                         "backend='eager'")
    model = fold_batchnorms(reparameterize(model.eval()), standalone_to_affine=False)
    if channels_last:
        # 4-D weights only (model.to(memory_format=...) refuses the 5-D expert kernels of
        # dynamic convs)
        for param in model.parameters():
            if param.dim() == 4:
                param.data = param.data.contiguous(memory_format=torch.channels_last)
        if example_input is not None and example_input.dim() == 4:
            example_input = example_input.contiguous(memory_format=torch.channels_last)
    if backend == 'eager':
        return model
    if backend == 'inductor':
        compiled, why = _compile_with_inductor(model, example_input)
        if compiled is not None:
            return compiled
        warnings.warn(f'optimize_for_inference: the inductor backend is not available here '
                      f'({why}); using the TorchScript backend instead')
    traced = torch.jit.trace(model, example_input, check_trace=False)
    frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
    # A trace records one path: a model whose graph depends on the batch size (dynamic convs
    # run each sample as a conv group) would silently break at another one. Check it.
    other = torch.randn((example_input.shape[0] + 1, *example_input.shape[1:]),
                        dtype=example_input.dtype)
    try:
        ok = relative_error(frozen(other), model(other)) <= 1e-4
    except RuntimeError:
        ok = False
    if not ok:
        warnings.warn(f'{type(model).__name__}: the traced graph depends on the batch size, '
                      'so optimize_for_inference returns the fused eager model (channels-last)'
                      ' instead of a frozen TorchScript one')
        return model
    return frozen
