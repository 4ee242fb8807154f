"""ParNet's blocks (Goyal et al., "Non-deep Networks", NeurIPS 2022), after the official code
(imankgoyal/NonDeepNetworks, ``simplenet_impl``).

Every ParNet block has a 3x3 conv + BN and a 1x1 conv + BN branch that fuse into one 3x3 conv;
what stays after fusion is the squeeze-excitation, the identity BN of stream blocks, the
per-input BNs of fusion blocks and the channel shuffles.
"""
import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer

from mmshallow.registry import MODELS
from .conv_bn import ConvBN
from .fusion import avgpool_1x1_to_3x3_s2, conv_from_branch, pad_kernel, sum_branches
from .reparam import ReparamModule


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's shuffle: (g, c/g) -> (c/g, g) over the channel axis."""
    b, c, h, w = x.shape
    return x.reshape(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


def interleave(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Concatenate two maps channel by channel: a0, b0, a1, b1, ... (official ``Concat2d``)."""
    return torch.stack((a, b), dim=2).flatten(1, 2)


class _TwoBranchConv(ReparamModule):
    """The fusable part shared by all ParNet blocks: ``BN(conv3x3 x) + BN(conv1x1 x')``, where
    ``x'`` is ``AvgPool2d(2)(x)`` for stride 2 (ParNet's downsampling) and ``x`` otherwise."""

    def __init__(self, in_channels, out_channels, stride, groups, conv_cfg, norm_cfg,
                 deploy=False, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        if stride not in (1, 2):
            raise ValueError(f'ParNet blocks take stride 1 or 2, got {stride}')
        self.stride = stride
        if deploy:
            self.fused_conv = nn.Conv2d(in_channels, out_channels, 3, stride, 1, groups=groups,
                                        bias=True)
            return
        conv = dict(groups=groups, conv_cfg=conv_cfg, norm_cfg=norm_cfg, kaiming_init=True)
        self.branch_3x3 = ConvBN(in_channels, out_channels, 3, stride, 1, **conv)
        if stride == 2:
            self.branch_1x1 = nn.Sequential(nn.AvgPool2d(2, 2),
                                            ConvBN(in_channels, out_channels, 1, **conv))
        else:
            self.branch_1x1 = ConvBN(in_channels, out_channels, 1, **conv)

    def forward(self, x):
        if self.deploy:
            return self.fused_conv(x)
        if self.stride == 2 and (x.shape[-2] % 2 or x.shape[-1] % 2):
            raise ValueError(
                f'ParNet stride-2 block got a {x.shape[-2]}x{x.shape[-1]} map: its avg-pool '
                'branch needs even sizes, so the input size must be divisible by 32')
        return self.branch_3x3(x) + self.branch_1x1(x)

    def _fuse(self):
        if self.stride == 2:  # AvgPool2d(2) then the 1x1: a 3x3/s2 kernel
            kernel, bias = self.branch_1x1[1].get_equivalent_kernel_bias()
            kernel = avgpool_1x1_to_3x3_s2(kernel)
        else:
            kernel, bias = self.branch_1x1.get_equivalent_kernel_bias()
            kernel = pad_kernel(kernel, 3)
        branches = [self.branch_3x3.get_equivalent_kernel_bias(), (kernel, bias)]
        self.fused_conv = conv_from_branch(sum_branches(branches), self.branch_3x3.conv)
        del self.branch_3x3, self.branch_1x1


class _ParNetBlock(ReparamModule):
    """A ParNet block fuses by fusing its :class:`_TwoBranchConv` ``convs`` (a fusion block:
    that of its inner downsampling block); the SE, the BNs and the shuffles stay.

    ``fused_name`` is None because the fused conv lives in ``convs``, whose own load check
    tells a deploy checkpoint from a train-time one; the state-dict keys stay those of the
    official layout.
    """

    fused_name = None

    def _fuse(self):
        self.convs.switch_to_deploy()


@MODELS.register_module()
class RepVGGSSEBlock(_ParNetBlock):
    """ParNet's stream block (C -> C, stride 1), RepVGG with skip-squeeze-excitation:

    ``act(BN(conv3x3 x) + BN(conv1x1 x) + BN0(x) * sigmoid(W GAP(BN0 x)))``

    The SSE gates the BN'ed skip, its pooling reads ``BN0(x)`` and ``W`` is one bias-free 1x1
    conv. Fusion merges the two conv branches; BN0 and the SSE stay (the gate depends on x).

    Args:
        channels (int): Input and output channels.
        conv_cfg (dict, optional): Conv layer config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation. Defaults to ``dict(type='SiLU')``.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, channels, conv_cfg=None, norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='SiLU'), deploy=False, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.convs = _TwoBranchConv(channels, channels, 1, 1, conv_cfg, norm_cfg, deploy)
        self.branch_norm = build_norm_layer(norm_cfg, channels)[1]
        self.sse = nn.Conv2d(channels, channels, 1, bias=False)
        self.act = build_activation_layer(act_cfg)

    def forward(self, x):
        skip = self.branch_norm(x)
        skip = skip * torch.sigmoid(self.sse(skip.mean((2, 3), keepdim=True)))
        return self.act(self.convs(x) + skip)


@MODELS.register_module()
class ParNetDownsampleBlock(_ParNetBlock):
    """ParNet's downsampling block (no identity):

    ``act((BN(conv3x3_s x) + BN(conv1x1(AvgPool2 x))) * 2 sigmoid(W GAP x))``

    then a channel shuffle when grouped. With stride 1 (the final fusion) the 1x1 branch reads
    ``x`` directly. The SE (one bias-free, grouped 1x1 conv, output doubled) scales the sum.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 2 (downsampling) or 1. Defaults to 2.
        groups (int): Groups of every conv; > 1 adds the channel shuffle. Defaults to 1.
        conv_cfg, norm_cfg, act_cfg, deploy, init_cfg: as in :class:`RepVGGSSEBlock`.
    """

    def __init__(self, in_channels, out_channels, stride=2, groups=1, conv_cfg=None,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'), deploy=False,
                 init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.groups = groups
        self.convs = _TwoBranchConv(in_channels, out_channels, stride, groups, conv_cfg,
                                    norm_cfg, deploy)
        self.se = nn.Conv2d(in_channels, out_channels, 1, groups=groups, bias=False)
        self.act = build_activation_layer(act_cfg)

    def forward(self, x):
        gate = 2 * torch.sigmoid(self.se(x.mean((2, 3), keepdim=True)))
        out = self.act(self.convs(x) * gate)
        return channel_shuffle(out, self.groups) if self.groups > 1 else out


@MODELS.register_module()
class ParNetFusionBlock(_ParNetBlock):
    """ParNet's fusion block: BN on each input, channel interleave (current stream first),
    then a grouped (g=2) :class:`ParNetDownsampleBlock` and its channel shuffle.

    Args:
        in_channels (int): Channels of each of the two inputs.
        out_channels (int): Output channels.
        stride (int): 2 between streams, 1 for the final fusion. Defaults to 2.
        conv_cfg, norm_cfg, act_cfg, deploy, init_cfg: as in :class:`RepVGGSSEBlock`.
    """

    def __init__(self, in_channels, out_channels, stride=2, conv_cfg=None,
                 norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU'), deploy=False,
                 init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.norm_current = build_norm_layer(norm_cfg, in_channels)[1]
        self.norm_previous = build_norm_layer(norm_cfg, in_channels)[1]
        self.block = ParNetDownsampleBlock(2 * in_channels, out_channels, stride, 2, conv_cfg,
                                           norm_cfg, act_cfg, deploy)

    def _fuse(self):
        self.block.switch_to_deploy()

    def forward(self, current, previous):
        if current.shape != previous.shape:
            raise ValueError(f'ParNetFusionBlock inputs differ in shape: {tuple(current.shape)} '
                             f'vs {tuple(previous.shape)}')
        return self.block(interleave(self.norm_current(current),
                                     self.norm_previous(previous)))
