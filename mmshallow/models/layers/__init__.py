from .fusion import (avgpool_1x1_to_3x3_s2, conv_from_branch, fuse_bn_identity, fuse_conv_bn,
                     identity_kernel, merge_1x1_after_kxk, merge_kxk_after_1x1, pad_kernel,
                     sum_branches)
from .reparam import ReparamModule, reparameterize, reparameterize_children
from .repvgg_block import RepVGGBlock
from .se_layer import SELayer

__all__ = [
    'avgpool_1x1_to_3x3_s2', 'conv_from_branch', 'fuse_bn_identity', 'fuse_conv_bn',
    'identity_kernel', 'merge_1x1_after_kxk', 'merge_kxk_after_1x1', 'pad_kernel',
    'sum_branches', 'ReparamModule', 'reparameterize', 'reparameterize_children',
    'RepVGGBlock', 'SELayer'
]
