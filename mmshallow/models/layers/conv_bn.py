"""The one conv + BatchNorm container of mmshallow's re-parameterizable blocks."""
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import weight_init

from .fusion import Branch, conv_from_branch, fuse_conv_bn
from .reparam import ReparamModule


class ConvBN(ReparamModule):
    """A conv then BatchNorm, ``conv`` and ``bn``; fused: ``fused_conv``, one biased conv.

    The state-dict keys are those of an mmcv ``ConvModule`` with a BN (``conv.*``, ``bn.*``),
    which the official-checkpoint converters map onto. A block that sums several branches
    folds each with :meth:`get_equivalent_kernel_bias`; alone, :meth:`switch_to_deploy`
    replaces the pair by ``fused_conv``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, groups: as ``nn.Conv2d``.
        bias (bool): Give the conv a bias before the BN (VanillaNet's official convs have
            one). Defaults to False.
        dilation (int): Dilation of the conv (RepVGG's dilated segmentation stages).
            Defaults to 1.
        conv_cfg (dict, optional): Conv layer config. Defaults to None (``nn.Conv2d``).
        norm_cfg (dict): Norm config; fusion needs BatchNorm. Defaults to ``dict(type='BN')``.
        kaiming_init (bool): Initialize as mmcv's ``ConvModule`` does: the conv Kaiming-normal
            (fan-out), the BN weight 1 and bias 0, when built and again in
            :meth:`init_weights`. RepVGG's and ParNet's branches were ``ConvModule`` s; this
            keeps their seeded weights. False keeps PyTorch's default init (GhostNet,
            VanillaNet). Defaults to False.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, groups: int = 1, bias: bool = False, dilation: int = 1,
                 conv_cfg=None, norm_cfg=dict(type='BN'), kaiming_init: bool = False,
                 deploy: bool = False, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.kaiming_init = kaiming_init
        conv = self.build_conv(conv_cfg, in_channels, out_channels, kernel_size, stride=stride,
                               padding=padding, dilation=dilation, groups=groups, bias=bias)
        if deploy:
            self.fused_conv = conv
            return
        self.conv = conv
        if self.kaiming_init:
            weight_init.kaiming_init(self.conv)
        self.bn = build_norm_layer(norm_cfg, out_channels)[1]

    def build_conv(self, conv_cfg, *args, bias: bool, **kwargs) -> nn.Module:
        """The conv; deployed it gets a bias, where the BN's shift goes."""
        return build_conv_layer(conv_cfg, *args, bias=bias or self.deploy, **kwargs)

    def init_weights(self):
        if not self.kaiming_init or self.deploy:
            return super().init_weights()
        # as ConvModule.init_weights: again at every call, whatever the parent's init_cfg did
        weight_init.kaiming_init(self.conv)
        weight_init.constant_init(self.bn, 1, bias=0)

    def forward(self, x):
        if self.deploy:
            return self.fused_conv(x)
        return self.bn(self.conv(x))

    def get_equivalent_kernel_bias(self) -> Branch:
        """The fused ``(kernel, bias)``; differentiable, so usable during training too."""
        return fuse_conv_bn(self.conv.weight, self.conv.bias, self.bn)

    def _fuse(self):
        self.fused_conv = conv_from_branch(self.get_equivalent_kernel_bias(), self.conv)
        del self.conv, self.bn
