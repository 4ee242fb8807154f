"""What differs between the torch releases mmshallow supports (2.1 to the newest tested).

Each helper here takes one difference so that callers read the same on every release; the
version table is ``mmshallow.version.DEPENDENCIES``.
"""
import inspect

import torch


def onnx_exporter_kwargs() -> dict:
    """Keyword arguments that make ``torch.onnx.export`` run the TorchScript exporter, the one
    mmdeploy's rewriters and our symbolics work with. torch >= 2.9 defaults to the dynamo
    exporter and takes ``dynamo=False``; older releases have only TorchScript and no ``dynamo``
    argument (torch 2.1 raises a TypeError for it)."""
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        return dict(dynamo=False)
    return {}


def onnx_export(model, args, f, **kwargs):
    """``torch.onnx.export`` with the TorchScript exporter on every supported torch."""
    return torch.onnx.export(model, args, f, **onnx_exporter_kwargs(), **kwargs)
