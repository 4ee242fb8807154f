from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer

from mmshallow.registry import MODELS
from .checkpointing import checkpointed
from .conv_bn import ConvBN
from .fusion import conv_from_branch, fuse_bn_identity, pad_kernel, sum_branches
from .reparam import ReparamModule
from .se_layer import SELayer


@MODELS.register_module()
class RepVGGBlock(ReparamModule):
    """RepVGG block: ``act(SE(BN(conv3x3 x) + BN(conv1x1 x) + BN(x)))``.

    The identity BN exists only when ``in_channels == out_channels`` and ``stride == 1``. After
    :meth:`switch_to_deploy` the three branches are one biased 3x3 conv, ``act(SE(conv3x3 x))``:
    the SE layer (RepVGG-D2se) is kept.

    With ``dilation > 1`` (the official segmentation example's stride-1 stages) only the 3x3
    conv is dilated (padding = dilation); the fusion is unchanged and exact, since the 1x1 and
    identity branches land on the centre tap, the one tap dilation does not move.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the 3x3 and 1x1 convs. Defaults to 1.
        groups (int): Groups of the 3x3 and 1x1 convs. Defaults to 1.
        se_ratio (int, optional): Add an SE layer with this reduction ratio (D2se uses 16).
            Defaults to None (no SE).
        conv_cfg (dict, optional): Conv layer config. Defaults to None (``nn.Conv2d``).
        norm_cfg (dict): Norm config; fusion needs BatchNorm. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        with_cp (bool): Use gradient checkpointing. Defaults to False.
        deploy (bool): Build the fused structure. Defaults to False.
        dilation (int): Dilation of the 3x3 conv. Defaults to 1.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, groups: int = 1,
                 se_ratio=None, conv_cfg=None, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'), with_cp: bool = False, deploy: bool = False,
                 dilation: int = 1, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        if not isinstance(dilation, int) or dilation < 1:
            raise ValueError(f'{type(self).__name__} dilation must be an int >= 1, got '
                             f'{dilation!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.groups = groups
        self.dilation = dilation
        self.with_cp = with_cp
        if deploy:
            self.fused_conv = build_conv_layer(
                conv_cfg, in_channels, out_channels, 3, stride=stride, padding=dilation,
                dilation=dilation, groups=groups, bias=True)
        else:
            self._build_branches(conv_cfg, norm_cfg)
        self.se_layer = SELayer(out_channels, se_ratio) if se_ratio else None
        self.act = build_activation_layer(act_cfg)

    @property
    def has_identity(self) -> bool:
        return self.in_channels == self.out_channels and self.stride == 1

    def _conv_bn(self, kernel_size: int, conv_cfg, norm_cfg) -> ConvBN:
        # a 1x1 conv has no taps to spread: only the 3x3 is dilated
        dilation = self.dilation if kernel_size > 1 else 1
        return ConvBN(self.in_channels, self.out_channels, kernel_size, self.stride,
                      kernel_size // 2 * dilation, self.groups, dilation=dilation,
                      conv_cfg=conv_cfg, norm_cfg=norm_cfg, kaiming_init=True)

    def _build_branches(self, conv_cfg, norm_cfg) -> None:
        self.branch_3x3 = self._conv_bn(3, conv_cfg, norm_cfg)
        self.branch_1x1 = self._conv_bn(1, conv_cfg, norm_cfg)
        self.branch_norm = (build_norm_layer(norm_cfg, self.in_channels)[1]
                            if self.has_identity else None)

    def _branches_sum(self, x):
        if self.deploy:
            return self.fused_conv(x)
        out = self.branch_3x3(x) + self.branch_1x1(x)
        if self.branch_norm is not None:
            out = out + self.branch_norm(x)
        return out

    def _inner_forward(self, x):
        out = self._branches_sum(x)
        return out if self.se_layer is None else self.se_layer(out)

    def forward(self, x):
        return self.act(checkpointed(self._inner_forward, x, self.with_cp))

    def get_equivalent_kernel_bias(self):
        """The fused 3x3 ``(kernel, bias)``; differentiable, so usable during training too."""
        kernel_1x1, bias_1x1 = self.branch_1x1.get_equivalent_kernel_bias()
        branches = [self.branch_3x3.get_equivalent_kernel_bias(),
                    (pad_kernel(kernel_1x1, 3), bias_1x1)]
        if self.branch_norm is not None:
            branches.append(fuse_bn_identity(self.branch_norm, self.groups, 3))
        return sum_branches(branches)

    def _fuse(self):
        self.fused_conv = conv_from_branch(self.get_equivalent_kernel_bias(),
                                           self.branch_3x3.conv)
        del self.branch_3x3, self.branch_1x1, self.branch_norm
