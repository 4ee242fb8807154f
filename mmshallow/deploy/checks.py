"""What an export must satisfy, checked before and after ``torch.onnx.export``."""
from collections import Counter
from typing import Sequence

import torch.nn as nn

from ..models import reparameterize
from ..models.layers.dynamic_conv import DynamicConv2d
from ..models.layers.reparam import NotFusableYetError, ReparamModule, unwrap_model


class ExportError(RuntimeError):
    """The model or the export request cannot give a correct, fused ONNX model."""


def check_exportable(model: nn.Module) -> nn.Module:
    """Fuse ``model`` in place for export and make sure nothing stayed multi-branch.

    Raises :class:`ExportError` when a module cannot be fused yet (VanillaNet before its deep
    training has annealed the activations to the identity) or stays unfused.
    """
    model = unwrap_model(model)
    try:
        reparameterize(model)
    except NotFusableYetError as err:
        raise ExportError(
            f'cannot export an unfused model: {err} Export the checkpoint of a finished '
            'training, or a deploy checkpoint (tools/reparameterize.py) with its deploy config.'
        ) from err
    unfused = [name for name, m in model.named_modules()
               if isinstance(m, ReparamModule) and not m.deploy]
    if unfused:
        raise ExportError(f'modules still unfused after reparameterize: {", ".join(unfused)}')
    return model


def input_divisor(model: nn.Module) -> int:
    """The number every input side must be a multiple of (1: any size)."""
    backbone = getattr(unwrap_model(model), 'backbone', model)
    return int(getattr(backbone, 'size_divisor', 1))


def check_export_input_shape(model: nn.Module, shape: Sequence[int], dynamic: bool) -> None:
    """Refuse an export shape the model cannot take (ParNet: sides divisible by 32).

    For a dynamic export the example shape stands for every shape the ONNX model will be fed,
    so the error says so.
    """
    divisor = input_divisor(model)
    height, width = shape[-2:]
    if height % divisor or width % divisor:
        backbone = type(getattr(unwrap_model(model), 'backbone', model)).__name__
        kind = 'dynamic-shape export: every input' if dynamic else 'input'
        raise ExportError(
            f'{backbone} needs input sides divisible by {divisor} ({kind} must be), got '
            f'{height}x{width}; use e.g. {height // divisor * divisor or divisor}x'
            f'{width // divisor * divisor or divisor} (pad_size_divisor={divisor} in the '
            "model's data_preprocessor pads test images so)")


def onnx_op_types(onnx_model) -> Counter:
    """Counts of the node types of an ONNX model's main graph."""
    return Counter(node.op_type for node in onnx_model.graph.node)


class ConvCallCounter:
    """Counts the 2-D convolutions a model computes while in a ``with`` block: every call of
    an ``nn.Conv2d`` or a dynamic conv (a head shared across pyramid levels counts once per
    level), which is what the ONNX graph has one ``Conv`` node for."""

    def __init__(self, model: nn.Module):
        self.model, self.calls, self._handles = unwrap_model(model), 0, []

    def _hook(self, module, inputs, output):
        self.calls += 1

    def __enter__(self) -> 'ConvCallCounter':
        self._handles = [m.register_forward_hook(self._hook) for m in self.model.modules()
                         if isinstance(m, (nn.Conv2d, DynamicConv2d))]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()


def assert_fused_graph(onnx_model, conv_calls: int) -> Counter:
    """Assert that the ONNX graph is the fused model: no BatchNormalization node and exactly
    as many ``Conv`` nodes as the fused PyTorch model makes conv calls in one forward of a
    single image (``ConvCallCounter``); a multi-branch block would add convs. Returns the op
    counts."""
    ops = onnx_op_types(onnx_model)
    if ops.get('BatchNormalization'):
        raise ExportError(f'the ONNX graph has {ops["BatchNormalization"]} BatchNormalization '
                          'nodes: the model was not fused before export')
    if ops.get('Conv', 0) != conv_calls:
        raise ExportError(f'the ONNX graph has {ops.get("Conv", 0)} Conv nodes but the fused '
                          f'model makes {conv_calls} conv calls per image: it has branches '
                          'that the fused model does not')
    return ops
