"""mmdeploy rewriters registered by ``import mmshallow.deploy`` (see its docstring)."""
import torch
import torch.nn.functional as F
from mmdeploy.core import FUNCTION_REWRITER, SYMBOLIC_REWRITER
from mmdeploy.utils import get_ir_config, is_dynamic_shape
from torch.nn.modules.utils import _pair

from ..models.layers.fold_bn import fold_batchnorms
from ..utils.torch_compat import onnx_exporter_kwargs
from .checks import ExportError, check_export_input_shape, check_exportable

#: the lowest opset whose ``RoiAlign`` has ``coordinate_transformation_mode`` (half_pixel)
ROI_ALIGN_MIN_OPSET = 16


@FUNCTION_REWRITER.register_rewriter('torch.onnx.export')
def onnx_export__fused_torchscript(model, args, *rest, **kwargs):
    """mmdeploy's call of ``torch.onnx.export``: fuse the whole model, then export with the
    TorchScript exporter, which applies mmdeploy's rewriters (the dynamo exporter does not)."""
    ctx = FUNCTION_REWRITER.get_context()
    example = args[0] if isinstance(args, (tuple, list)) else args
    if torch.is_tensor(example) and example.dim() == 4:
        check_export_input_shape(model, example.shape, dynamic=bool(kwargs.get('dynamic_axes')))
    fold_batchnorms(check_exportable(model))
    for key, value in onnx_exporter_kwargs().items():  # dynamo=False where torch has it
        kwargs.setdefault(key, value)
    if kwargs.get('keep_initializers_as_inputs') is None:
        kwargs['keep_initializers_as_inputs'] = False
    return ctx.origin_func(model, args, *rest, **kwargs)


def _select(g, tensor, dim: int, index):
    return g.op('Gather', tensor, g.op('Constant', value_t=torch.tensor(index)), axis_i=dim)


@SYMBOLIC_REWRITER.register_symbolic('mmcv.ops.roi_align.__self__', backend='onnxruntime')
def roi_align__onnx_standard(g, input, rois, output_size, spatial_scale, sampling_ratio,
                             pool_mode, aligned):
    """mmcv ``RoIAlign`` as the standard ONNX ``RoiAlign`` (opset >= 16): ``rois`` are
    ``(n, 5)`` rows ``(batch index, x1, y1, x2, y2)``, split here into what ONNX wants."""
    ctx = SYMBOLIC_REWRITER.get_context()
    opset = get_ir_config(ctx.cfg).get('opset_version', 11)
    if opset < ROI_ALIGN_MIN_OPSET:
        raise ExportError(
            f'RoIAlign exports to the standard ONNX RoiAlign, which needs opset_version >= '
            f'{ROI_ALIGN_MIN_OPSET} for aligned RoIs; the deploy config has {opset} '
            '(use configs/deploy/detection_onnxruntime_*.py)')
    batch_indices = g.op('Cast', _select(g, rois, 1, 0), to_i=7)  # 7: INT64
    boxes = _select(g, rois, 1, [1, 2, 3, 4])
    return g.op(
        'RoiAlign', input, boxes, batch_indices,
        output_height_i=output_size[0], output_width_i=output_size[1],
        spatial_scale_f=spatial_scale, sampling_ratio_i=sampling_ratio, mode_s=pool_mode,
        coordinate_transformation_mode_s='half_pixel' if aligned else 'output_half_pixel')


def _adaptive_mean(x: torch.Tensor, dim: int, out: int) -> torch.Tensor:
    """Adaptive average pooling of ``x`` along ``dim`` to ``out`` cells: cell ``i`` averages
    ``[floor(i*n/out), ceil((i+1)*n/out))`` as torch's kernel does. ``n`` may be a traced size
    (a dynamic-shape export): the windows are then computed in the graph."""
    n = x.shape[dim]
    head = (slice(None), ) * dim
    cells = [x[head + (slice(i * n // out, ((i + 1) * n + out - 1) // out), )].mean(
        dim, keepdim=True) for i in range(out)]
    return torch.cat(cells, dim)


@FUNCTION_REWRITER.register_rewriter('torch.nn.functional.adaptive_avg_pool2d',
                                     backend='onnxruntime')
def adaptive_avg_pool2d__exact(input, output_size):
    """Adaptive average pooling (PSPHead's and UPerHead's pyramid pooling) that stays exact.

    Replaces mmdeploy's default rewriter, which exports it as ``avg_pool2d`` with kernel =
    stride = ``int(size / output_size)``: right only where the output size divides the input
    size (a 16x16 map pooled to 6x6 comes out 8x8 and the resize after it hides the error; a
    4x4 map to 6x6 gets kernel 0). Here: one ``AveragePool`` where the sizes divide (static
    shapes), else torch's windows as slices and means, one axis at a time (a box average is
    separable); with dynamic shapes the windows follow the input size in the graph.
    """
    ctx = FUNCTION_REWRITER.get_context()
    out = _pair(output_size)  # None: that axis keeps its size
    if all(o == 1 for o in out):
        return ctx.origin_func(input, output_size)
    if not is_dynamic_shape(ctx.cfg):
        size = [int(s) for s in input.shape[2:]]
        kernel = [1 if o is None else s // o for s, o in zip(size, out)]
        if all(o is None or s % o == 0 for s, o in zip(size, out)):
            return F.avg_pool2d(input, kernel, kernel)
    for dim, o in zip((2, 3), out):
        if o is not None:
            input = _adaptive_mean(input, dim, o)
    return input
