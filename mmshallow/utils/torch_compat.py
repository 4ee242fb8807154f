"""What differs between the torch releases mmshallow supports (2.1 to the newest tested).

Each helper here takes one difference so that callers read the same on every release; the
version table is ``mmshallow.version.DEPENDENCIES``.
"""
import inspect

import torch

from .dependencies import release


def onnx_exporter_kwargs() -> dict:
    """Keyword arguments that make ``torch.onnx.export`` run the TorchScript exporter, the one
    mmdeploy's rewriters and our symbolics work with. torch >= 2.9 defaults to the dynamo
    exporter and takes ``dynamo=False``; older releases have only TorchScript and no ``dynamo``
    argument (torch 2.1 raises a TypeError for it)."""
    return dict(dynamo=False) if _EXPORT_TAKES_DYNAMO else {}


def _export_takes_dynamo() -> bool:
    params = inspect.signature(torch.onnx.export).parameters
    if 'dynamo' in params:
        return True
    # inside mmdeploy's export, torch.onnx.export is its (*args, **kwargs) wrapper: go by the
    # release (the argument is new in torch 2.5)
    wrapped = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return wrapped and release(torch.__version__) >= (2, 5)


# read at import, before any rewriter context replaces torch.onnx.export
_EXPORT_TAKES_DYNAMO = _export_takes_dynamo()


def onnx_export(model, args, f, **kwargs):
    """``torch.onnx.export`` with the TorchScript exporter on every supported torch."""
    return torch.onnx.export(model, args, f, **onnx_exporter_kwargs(), **kwargs)
