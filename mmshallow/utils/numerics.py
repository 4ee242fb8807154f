"""Numerics of mmshallow's checks: how far two model outputs are apart (the one relative
error) and random BN statistics for fusion checks and measurements.

Used by library code (``optimize_for_inference``'s trace check, the ONNX export parity of
:mod:`mmshallow.deploy.export`), by ``tools/reparameterize.py`` and by the tests (re-exported
by :mod:`mmshallow.testing`). It imports torch only.
"""
from typing import Any, List

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

#: the norms :func:`relative_error` measures with
NORMS = ('max', 'l2')


def flatten_tensors(outputs: Any) -> List[torch.Tensor]:
    """All tensors in a (nested) tuple/list/dict output, in order."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if isinstance(outputs, (list, tuple)):
        return [t for item in outputs for t in flatten_tensors(item)]
    return []


def relative_error(actual: Any, expected: Any, norm: str = 'max') -> float:
    """The relative error of ``actual`` against ``expected``: the worst over the tensors of
    two (nested tuple/list/dict) outputs of ``|actual - expected| / |expected|``.

    Args:
        actual: the output to judge (a tensor or a nested tuple/list/dict of tensors).
        expected: the reference output, of the same structure and shapes.
        norm (str): the size ``|x|`` of a tensor:

            * ``'max'`` (default): the largest absolute element, so the error is
              ``max |actual - expected| / max |expected|``. The fused-vs-unfused checks
              (``<= 1e-5`` in fp32) and ``optimize_for_inference``'s use this one: one bad
              element counts in full, whatever the tensor's size.
            * ``'l2'``: the Euclidean (Frobenius) norm, ``||actual - expected||_2 /
              ||expected||_2``: the logits parity of the ONNX export (``<= 1e-4``,
              :data:`mmshallow.deploy.export.LOGITS_RTOL`).

    Returns:
        float: the relative error (``|expected|`` is clamped to at least 1e-12).

    Raises:
        ValueError: ``norm`` is not in :data:`NORMS`, or the outputs differ in the number or
            the shapes of their tensors.
    """
    if norm not in NORMS:
        raise ValueError(f'relative_error: norm {norm!r} not in {NORMS}')
    actual, expected = flatten_tensors(actual), flatten_tensors(expected)
    if len(actual) != len(expected) or not expected:
        raise ValueError(f'outputs differ in structure: {len(actual)} vs {len(expected)} tensors')
    size = (lambda x: x.abs().max()) if norm == 'max' else (lambda x: x.norm())
    worst = 0.0
    for a, e in zip(actual, expected):
        if a.shape != e.shape:
            raise ValueError(f'output shapes differ: {tuple(a.shape)} vs {tuple(e.shape)}')
        a, e = a.detach(), e.detach()
        worst = max(worst, float(size(a - e) / size(e).clamp_min(1e-12)))
    return worst


@torch.no_grad()
def randomize_bn_statistics(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm random affine parameters and running statistics.

    Freshly built BNs (mean 0, var 1, weight 1, bias 0) are the identity and would hide a wrong
    fusion of their statistics.
    """
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            n = module.num_features

            def rand(low, high):
                return torch.rand(n, generator=generator) * (high - low) + low

            module.running_mean.copy_(rand(-0.2, 0.2))
            module.running_var.copy_(rand(0.5, 2.0))
            if module.affine:
                module.weight.copy_(rand(0.5, 1.5))
                module.bias.copy_(rand(-0.2, 0.2))
    return model
