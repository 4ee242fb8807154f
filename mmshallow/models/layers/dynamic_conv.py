"""Dynamic convolution, ParameterNet's way of adding parameters without adding FLOPs (Han et al.,
"ParameterNet: Parameters Are All You Need", arXiv 2306.14525).

``M`` expert kernels are mixed per sample by gates ``a = gate(GAP(x))`` computed from the input,
``W'(x) = sum_i a_i W_i``, and the mixed kernel convolves the sample. The released code
(huawei-noah/Efficient-AI-Backbones, ``parameternet_pytorch/cv/parameternet.py``) gates with
CondConv's (arXiv 1904.04971) ``sigmoid(Linear(GAP(x)))``; the paper's text a
``softmax(MLP(GAP(x)))``. Both are here.

Deployment keeps the experts (the capacity is the point), but a BN after a dynamic conv folds
into every expert exactly: the mix is linear in the kernels (:func:`fuse_experts_bn`).
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmshallow.registry import MODELS
from .conv_bn import ConvBN
from .fusion import fuse_experts_bn
from .reparam import ReparamModule

GATES = ('sigmoid', 'softmax')


def check_num_experts(num_experts) -> None:
    if isinstance(num_experts, bool) or not isinstance(num_experts, int) or num_experts < 1:
        raise ValueError(f'num_experts {num_experts!r} is not allowed: the number of expert '
                         'kernels must be an int >= 1 (ParameterNet uses 4)')


@MODELS.register_module()
class DynamicConv2d(ReparamModule):
    """A dynamic convolution: ``conv(x, sum_i a_i W_i) + sum_i a_i b_i``, ``a = gate(GAP(x))``.

    The experts are the parameter ``weight`` of shape ``(M, out, in // groups, k, k)`` (and
    ``bias``, ``(M, out)``, with ``bias=True``); the gate is ``routing``. One matmul mixes the
    kernels of the whole batch, and one grouped conv (the batch folded into the channels, groups
    ``B * groups``) applies them; a batch of one takes a plain conv with its mixed kernel.

    A dynamic conv has no train-time branches to merge. Its deploy form adds ``static_bias``
    (``(out,)``, not mixed by the gates), where :class:`DynamicConvBN` folds a BN's shift; on
    its own, :meth:`switch_to_deploy` only adds a zero ``static_bias``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Kernel size.
        stride (int): Stride. Defaults to 1.
        padding (int): Padding. Defaults to 0.
        groups (int): Groups. Defaults to 1.
        bias (bool): Give every expert a bias (mixed by the gates). Defaults to False.
        num_experts (int): Number of expert kernels ``M``, >= 1. Defaults to 4.
        gate (str): ``'sigmoid'``: ``sigmoid(Linear(in -> M))``, independent gates as in the
            released ParameterNet (CondConv); ``'softmax'``: ``softmax(Linear(ReLU(Linear(in ->
            hidden))) -> M)``, as the paper's text writes it. Defaults to ``'sigmoid'``.
        gate_hidden (int, optional): Hidden width of the softmax gate's MLP. Defaults to
            ``in_channels``.
        dilation (int): Dilation (after the gate options, so that the first seven arguments
            are ParameterNet's ``(in, out, k, stride, padding, groups, bias)``). Defaults to 1.
        deploy (bool): Build the deploy form (with ``static_bias``). Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None: every expert is
            initialized as ``nn.Conv2d`` is (CondConv's init).
    """

    # the deploy form differs only by ``static_bias``, which a strict load checks by itself
    fused_name = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, groups: int = 1, bias: bool = False, num_experts: int = 4,
                 gate: str = 'sigmoid', gate_hidden: Optional[int] = None, dilation: int = 1,
                 deploy: bool = False, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        check_num_experts(num_experts)
        if gate not in GATES:
            raise ValueError(f'gate {gate!r} not in DynamicConv2d gates: {", ".join(GATES)}')
        if gate_hidden is not None and gate != 'softmax':
            raise ValueError(f'gate_hidden={gate_hidden} is only used by the softmax gate (an '
                             f'MLP); the {gate} gate is one Linear layer')
        if in_channels % groups or out_channels % groups:
            raise ValueError(f'in_channels {in_channels} and out_channels {out_channels} must '
                             f'be divisible by groups {groups}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.num_experts = num_experts
        self.gate = gate

        if gate == 'sigmoid':
            self.routing = nn.Linear(in_channels, num_experts)
        else:
            hidden = gate_hidden or in_channels
            self.routing = nn.Sequential(
                nn.Linear(in_channels, hidden), nn.ReLU(inplace=True),
                nn.Linear(hidden, num_experts))
        self.weight = nn.Parameter(torch.empty(num_experts, out_channels,
                                               in_channels // groups, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(num_experts, out_channels)) if bias else None
        if deploy:
            self.static_bias = nn.Parameter(torch.zeros(out_channels))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Every expert as ``nn.Conv2d.reset_parameters`` initializes a conv."""
        fan_in = self.weight[0, 0].numel()
        for i in range(self.num_experts):
            nn.init.kaiming_uniform_(self.weight[i], a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)

    def routing_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The gates ``a``, ``(B, M)``, from the globally pooled input."""
        logits = self.routing(F.adaptive_avg_pool2d(x, 1).flatten(1))
        return torch.sigmoid(logits) if self.gate == 'sigmoid' else logits.softmax(dim=1)

    def forward(self, x):
        batch, channels, height, width = x.shape
        alphas = self.routing_weights(x)
        # batch * out_channels kernels; for one sample the shape is spelled out as constants,
        # so that the ONNX exporter (batch-1 static export) knows the kernel's size
        rows = self.out_channels if batch == 1 else batch * self.out_channels
        kernels = (alphas @ self.weight.flatten(1)).reshape(rows, *self.weight.shape[2:])
        bias = None if self.bias is None else alphas @ self.bias  # (B, out)
        if self.deploy:
            bias = self.static_bias.expand(batch, -1) if bias is None else \
                bias + self.static_bias
        if bias is not None:
            bias = bias.reshape(-1)
        if batch == 1:
            return F.conv2d(x, kernels, bias, self.stride, self.padding, self.dilation,
                            self.groups)
        # each sample is a group of the conv, convolved with its own kernel
        out = F.conv2d(x.reshape(1, batch * channels, height, width), kernels, bias,
                       self.stride, self.padding, self.dilation, self.groups * batch)
        return out.view(batch, self.out_channels, *out.shape[-2:])

    def _fuse(self):
        self.static_bias = nn.Parameter(self.weight.new_zeros(self.out_channels))

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, '
                f'stride={self.stride}, padding={self.padding}, groups={self.groups}, '
                f'num_experts={self.num_experts}, gate={self.gate!r}, '
                f'bias={self.bias is not None}')


@MODELS.register_module()
class DynamicConvBN(ConvBN):
    """A :class:`DynamicConv2d` followed by BatchNorm, ``conv`` and ``bn``.

    :meth:`switch_to_deploy` folds the BN into every expert kernel (and expert bias) and its
    shift into the conv's ``static_bias`` (:func:`fuse_experts_bn`): ``fused_conv``, a deploy
    :class:`DynamicConv2d` with the same gate, exact for any gate.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, groups, bias, num_experts,
            gate, gate_hidden, dilation: as :class:`DynamicConv2d`.
        norm_cfg (dict): Norm config; fusion needs BatchNorm. Defaults to ``dict(type='BN')``.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, groups: int = 1, bias: bool = False, num_experts: int = 4,
                 gate: str = 'sigmoid', gate_hidden: Optional[int] = None, dilation: int = 1,
                 norm_cfg=dict(type='BN'), deploy: bool = False, init_cfg=None):
        experts = dict(num_experts=num_experts, gate=gate, gate_hidden=gate_hidden)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, bias,
                         dilation=dilation, conv_cfg=experts, norm_cfg=norm_cfg, deploy=deploy,
                         init_cfg=init_cfg)

    def build_conv(self, conv_cfg, *args, **kwargs) -> DynamicConv2d:
        """The dynamic conv (``conv_cfg``: its expert and gate arguments); deployed, with the
        ``static_bias`` where the BN's shift goes."""
        return DynamicConv2d(*args, **kwargs, **conv_cfg, deploy=self.deploy)

    def get_equivalent_kernel_bias(self):
        raise TypeError('a dynamic conv + BN has no single (kernel, bias): its BN folds into '
                        'every expert (fuse_experts_bn, or switch_to_deploy)')

    @torch.no_grad()
    def _fuse(self):
        conv = self.conv
        kernels, expert_bias, static_bias = fuse_experts_bn(
            conv.weight, conv.bias, self.bn, conv.static_bias if conv.deploy else None)
        conv.weight.copy_(kernels)
        if expert_bias is not None:
            conv.bias.copy_(expert_bias)
        conv.static_bias = nn.Parameter(static_bias.detach().clone())
        conv.deploy = True
        self.fused_conv = conv
        del self.conv, self.bn
