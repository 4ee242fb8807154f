"""mmshallow's blocks, and what a user of them calls: :func:`reparameterize`,
:func:`fold_batchnorms`, :func:`set_act_lambda`, the re-parameterization protocol
(:class:`ReparamModule`, :class:`ReparamContainer`, :class:`NotFusableYetError`).

The fusion math is :mod:`mmshallow.models.layers.fusion` (imported from there; it is the
blocks' business, not the public API).
"""
from .conv_bn import ConvBN
from .dynamic_conv import DynamicConv2d, DynamicConvBN
from .fold_bn import ChannelAffine, fold_batchnorms
from .ghost_blocks import GhostBottleneck, GhostModule
from .parnet_blocks import ParNetDownsampleBlock, ParNetFusionBlock, RepVGGSSEBlock
from .qarepvgg_block import QARepVGGBlock
from .reparam import (NotFusableYetError, ReparamContainer, ReparamModule, reparameterize,
                      unwrap_model)
from .repvgg_block import RepVGGBlock
from .sandglass_block import SandGlassBlock
from .se_layer import SELayer
from .vanillanet_blocks import SeriesActivation, VanillaBlock, VanillaStem, set_act_lambda

__all__ = [
    'ChannelAffine', 'ConvBN', 'DynamicConv2d', 'DynamicConvBN', 'GhostBottleneck',
    'GhostModule', 'NotFusableYetError', 'ParNetDownsampleBlock', 'ParNetFusionBlock',
    'QARepVGGBlock', 'RepVGGBlock', 'RepVGGSSEBlock', 'ReparamContainer', 'ReparamModule',
    'SELayer', 'SandGlassBlock', 'SeriesActivation', 'VanillaBlock', 'VanillaStem',
    'fold_batchnorms', 'reparameterize', 'set_act_lambda', 'unwrap_model'
]
