from mmcv.cnn import build_conv_layer, build_norm_layer

from mmshallow.registry import MODELS
from .fusion import conv_from_branch, fuse_conv_bn, identity_kernel, pad_kernel, sum_branches
from .repvgg_block import RepVGGBlock


@MODELS.register_module()
class QARepVGGBlock(RepVGGBlock):
    """Quantization-aware RepVGG block: ``act(SE(BN(BN(conv3x3 x) + conv1x1 x + x)))``.

    Chu et al., "Make RepVGG Greater Again: A Quantization-aware Approach" (arXiv 2212.01593,
    AAAI 2024), Sec. 4: the 1x1 branch and the identity carry no BN (their per-channel scales
    are what widens the fused kernel's range and the summed activation's outliers), the 3x3
    branch keeps its BN, and one BN after the sum (``post_norm``) keeps training stable. The
    identity exists only when ``in_channels == out_channels`` and ``stride == 1``. After
    :meth:`switch_to_deploy` it is one biased 3x3 conv, the post-sum BN folded in, exactly like
    a deployed :class:`RepVGGBlock` (same state dict keys).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the 3x3 and 1x1 convs. Defaults to 1.
        groups (int): Groups of the 3x3 and 1x1 convs. Defaults to 1.
        se_ratio (int, optional): Add an SE layer with this reduction ratio after the post-sum
            BN. Defaults to None (no SE).
        conv_cfg (dict, optional): Conv layer config. Defaults to None (``nn.Conv2d``).
        norm_cfg (dict): Norm config of the 3x3 branch and the post-sum norm; fusion needs
            BatchNorm. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        with_cp (bool): Use gradient checkpointing. Defaults to False.
        deploy (bool): Build the fused structure. Defaults to False.
        dilation (int): Dilation of the 3x3 conv (the 1x1 and identity sit at its centre
            tap). Defaults to 1.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def _build_branches(self, conv_cfg, norm_cfg) -> None:
        self.branch_3x3 = self._conv_bn(3, conv_cfg, norm_cfg)
        self.branch_1x1 = build_conv_layer(conv_cfg, self.in_channels, self.out_channels, 1,
                                           stride=self.stride, padding=0, groups=self.groups,
                                           bias=False)
        self.post_norm = build_norm_layer(norm_cfg, self.out_channels)[1]

    def _branches_sum(self, x):
        if self.deploy:
            return self.fused_conv(x)
        out = self.branch_3x3(x) + self.branch_1x1(x)
        if self.has_identity:
            out = out + x
        return self.post_norm(out)

    def get_equivalent_kernel_bias(self):
        """The fused 3x3 ``(kernel, bias)``; differentiable, so usable during training too."""
        kernel_3x3, bias = self.branch_3x3.get_equivalent_kernel_bias()
        zero = bias.new_zeros(self.out_channels)
        branches = [(kernel_3x3, bias), (pad_kernel(self.branch_1x1.weight, 3), zero)]
        if self.has_identity:
            branches.append((identity_kernel(self.out_channels, self.groups, 3,
                                             dtype=kernel_3x3.dtype, device=kernel_3x3.device),
                             zero))
        return fuse_conv_bn(*sum_branches(branches), self.post_norm)

    def _fuse(self):
        self.fused_conv = conv_from_branch(self.get_equivalent_kernel_bias(),
                                           self.branch_3x3.conv)
        del self.branch_3x3, self.branch_1x1, self.post_norm
