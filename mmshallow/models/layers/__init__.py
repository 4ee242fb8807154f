from .dynamic_conv import DynamicConv2d, DynamicConvBN
from .fusion import (avgpool_1x1_to_3x3_s2, conv_from_branch, fuse_bn_identity, fuse_conv_bn,
                     fuse_experts_bn, identity_kernel, merge_1x1_after_kxk, merge_kxk_after_1x1,
                     pad_kernel, sum_branches)
from .ghost_blocks import GhostBottleneck, GhostModule, SqueezeExcite
from .parnet_blocks import (ParNetDownsampleBlock, ParNetFusionBlock, RepVGGSSEBlock,
                            channel_shuffle, interleave)
from .reparam import (ReparamContainer, ReparamModule, reparameterize,
                      reparameterize_children)
from .qarepvgg_block import QARepVGGBlock
from .repvgg_block import RepVGGBlock
from .sandglass_block import SandGlassBlock
from .se_layer import SELayer
from .vanillanet_blocks import SeriesActivation, VanillaBlock, VanillaStem, set_act_lambda

__all__ = [
    'DynamicConv2d', 'DynamicConvBN', 'fuse_experts_bn', 'GhostBottleneck', 'GhostModule',
    'SqueezeExcite',
    'avgpool_1x1_to_3x3_s2', 'conv_from_branch', 'fuse_bn_identity', 'fuse_conv_bn',
    'identity_kernel', 'merge_1x1_after_kxk', 'merge_kxk_after_1x1', 'pad_kernel',
    'sum_branches', 'ReparamContainer', 'ReparamModule', 'reparameterize',
    'reparameterize_children',
    'QARepVGGBlock', 'RepVGGBlock', 'SELayer', 'ParNetDownsampleBlock', 'ParNetFusionBlock', 'RepVGGSSEBlock',
    'channel_shuffle', 'interleave', 'SeriesActivation', 'VanillaBlock', 'VanillaStem',
    'set_act_lambda', 'SandGlassBlock'
]
