"""mmdeploy support for mmshallow models (ONNX / ONNX Runtime).

List this module in a deploy config and mmdeploy imports it before it exports::

    codebase_config = dict(type='mmdet', task='ObjectDetection', module=['mmshallow.deploy'])

Importing it registers four things with mmdeploy, all active only inside mmdeploy's export
(its ``RewriterContext``), nothing globally:

* ``torch.onnx.export`` runs the TorchScript exporter (``dynamo=False``). Today's torch defaults
  to the dynamo exporter, which ignores every mmdeploy rewriter.
* Before exporting, the whole model is fused with :func:`mmshallow.reparameterize` (mmdeploy
  itself fuses ``model.backbone`` only; mmshallow's necks and heads have branches too). A model
  that cannot be fused yet (VanillaNet before deep training ends) is refused.
* mmcv's ``RoIAlign`` exports to the standard ONNX ``RoiAlign`` op (opset >= 16 for
  ``aligned=True``), so two-stage detectors run in plain ONNX Runtime without mmdeploy's
  custom-op library. mmdeploy's own symbolic imports ``_cast_Long``, which torch removed.
* Adaptive average pooling (mmseg's pyramid pooling in PSPHead / UPerHead) exports exactly:
  mmdeploy's rewriter turns it into an ``avg_pool2d`` that is wrong wherever the pooled size
  does not divide the feature map (a 128x128 image's 4x4 map pooled to 6x6).

It needs mmdeploy (``bash tools/install.sh --deploy``).
"""
try:
    import mmdeploy  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the install
    raise ImportError('mmshallow.deploy needs mmdeploy 1.3.1 and onnxruntime: '
                      'bash tools/install.sh --deploy (or pip install "mmshallow[deploy]")'
                      ) from err

from . import rewriters  # noqa: F401,E402  (registers the rewriters)
from .checks import (ConvCallCounter, ExportError, assert_fused_graph,  # noqa: E402
                     check_export_input_shape, check_exportable, onnx_op_types)

__all__ = ['ConvCallCounter', 'ExportError', 'assert_fused_graph', 'check_export_input_shape',
           'check_exportable', 'onnx_op_types']
