"""mmshallow: shallow-but-strong backbones (RepVGG, ParNet, VanillaNet, ParameterNet,
MobileNeXt) as an OpenMMLab 2.x plugin.

``import mmshallow`` registers every module (scope ``mmshallow``) and lets mmengine load its own
checkpoints under torch's safe ``weights_only`` loader. It imports neither mmdet, mmpretrain
nor ``mmcv.ops``.
"""
from .utils.dependencies import check_dependencies
from .version import __version__

check_dependencies()  # one clear error for a stack below the supported range

from .utils import allow_mmengine_checkpoints  # noqa: E402

allow_mmengine_checkpoints()

from . import engine, models  # noqa: E402,F401  (registers every module)
from .inference import optimize_for_inference  # noqa: E402
from .models.layers import (NotFusableYetError, fold_batchnorms, reparameterize,  # noqa: E402
                            set_act_lambda, unwrap_model)
from .registry import HOOKS, MODEL_WRAPPERS, MODELS, OPTIM_WRAPPERS  # noqa: E402

__all__ = ['__version__', 'reparameterize', 'fold_batchnorms', 'optimize_for_inference',
           'set_act_lambda', 'unwrap_model', 'NotFusableYetError', 'MODELS', 'HOOKS',
           'MODEL_WRAPPERS', 'OPTIM_WRAPPERS']
