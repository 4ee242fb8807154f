from mmshallow.registry import MODELS
from ..layers import QARepVGGBlock
from .repvgg import RepVGG


@MODELS.register_module()
class QARepVGG(RepVGG):
    """QARepVGG backbone (Chu et al., "Make RepVGG Greater Again: A Quantization-aware
    Approach", AAAI 2024): RepVGG's stages and archs (A0-B3, g2/g4, D2se) built from
    :class:`QARepVGGBlock`, whose fused 3x3 convs keep their accuracy under post-training INT8
    quantization where RepVGG's lose it.

    Deployed, a QARepVGG is layer for layer the same network as a deployed RepVGG of the same
    arch (same parameter count and state dict keys); only the training-time blocks differ.
    The paper also drops RepVGG's custom L2 regularizer: its configs use plain weight decay.

    Takes exactly :class:`RepVGG`'s arguments (``arch``, ``in_channels``, ``base_channels``,
    ``out_indices``, ``frozen_stages``, ``conv_cfg``, ``norm_cfg``, ``act_cfg``, ``norm_eval``,
    ``with_cp``, ``deploy``, ``strides``, ``dilations``, ``init_cfg``) with the same defaults.

    Example:
        >>> import torch
        >>> from mmshallow.models import QARepVGG
        >>> model = QARepVGG('A0', out_indices=(0, 1, 2, 3)).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 64))]
        [(1, 48, 16, 16), (1, 96, 8, 8), (1, 192, 4, 4), (1, 1280, 2, 2)]
    """

    block_type = QARepVGGBlock
