"""VanillaNet's blocks (Chen et al., "VanillaNet: the Power of Minimalism in Deep Learning",
NeurIPS 2023, arXiv 2305.12972), after the official code (huawei-noah/VanillaNet,
``models/vanillanet.py``).

Deep training (paper Sec. 3.1): between the two convs of a block (and of the stem and the
classifier) sits ``A'(x) = (1 - λ) ReLU(x) + λ x = leaky_relu(x, negative_slope=λ)``. λ (the
official ``act_learn``) grows from 0 to 1 during training (:class:`DeepTrainingHook`); at λ = 1
the activation is the identity and the two convs merge into one. λ is a persistent buffer,
``act_lambda``, of each module that uses it, so checkpoints and EMA copies carry it; it is gone
after fusion (the deploy structure has no λ).
"""
from numbers import Real
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_

from mmshallow.registry import MODELS
from .conv_bn import ConvBN
from .fusion import Branch, conv_from_branch, fuse_conv_bn, merge_1x1_after_kxk
from .reparam import NotFusableYetError, ReparamModule, reparameterize_children

#: BatchNorm eps of every VanillaNet BN (official code).
BN_EPS = 1e-6


def conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
            padding: int = 0) -> ConvBN:
    """VanillaNet's conv + BN: the conv biased (the official convs are), ``eps=1e-6``."""
    return ConvBN(in_channels, out_channels, kernel_size, stride, padding, bias=True,
                  norm_cfg=dict(type='BN', eps=BN_EPS))


def register_act_lambda(module: nn.Module) -> None:
    """Give ``module`` the persistent ``act_lambda`` buffer, λ = 1 (the official default, what
    evaluation and fine-tuning see)."""
    module.register_buffer('act_lambda', torch.tensor(1.0), persistent=True)


def deep_training_activation(x: torch.Tensor, act_lambda: torch.Tensor) -> torch.Tensor:
    """``(1 - λ) ReLU(x) + λ x``, written as the official ``leaky_relu(x, λ)``."""
    return F.leaky_relu(x, negative_slope=float(act_lambda))


def check_act_lambda_is_one(module: nn.Module) -> None:
    """Refuse to merge the convs around the deep-training activation while it is nonlinear."""
    lam = float(module.act_lambda)
    if lam != 1.0:
        raise NotFusableYetError(
            f'cannot fuse {type(module).__name__}: its deep-training λ (act_lambda) is {lam:g}, '
            'not 1, so the activation between its two convs is not the identity and the convs '
            'are not linear yet; finish deep training first (DeepTrainingHook raises λ to 1 '
            'after decay_epochs), or set λ = 1 with mmshallow.set_act_lambda(model, 1.0) only '
            'if the model was trained to λ = 1')


def set_act_lambda(model: nn.Module, lam: float) -> int:
    """Set λ (the ``act_lambda`` buffer) of every module of ``model`` that has one.

    ``model`` may be anything holding VanillaNet modules: a backbone, a neck, a whole mmdet
    detector or mmpretrain classifier, a wrapped model or an EMA copy.

    Args:
        model (nn.Module): The model.
        lam (float): λ, in ``[0, 1]``: 0 is ReLU, 1 the identity.

    Returns:
        int: The number of modules set.
    """
    if isinstance(lam, bool) or not isinstance(lam, Real) or not 0.0 <= lam <= 1.0:
        raise ValueError(f'act_lambda must be a number in [0, 1] (0: ReLU, 1: identity), '
                         f'got {lam!r}')
    count = 0
    with torch.no_grad():
        for module in model.modules():
            buffer = module._buffers.get('act_lambda')
            if buffer is not None:
                buffer.fill_(float(lam))
                count += 1
    return count


def _build_pool(stride: int, ada_pool: Optional[int]) -> nn.Module:
    if ada_pool:
        if stride == 1:
            # the official Block ignores ada_pool at stride 1; say so instead
            raise ValueError(f'ada_pool={ada_pool} replaces the max pool of a strided stage, '
                             'but this stage has stride 1; use 0/None here')
        return nn.AdaptiveMaxPool2d((ada_pool, ada_pool))
    return nn.Identity() if stride == 1 else nn.MaxPool2d(stride)


@MODELS.register_module()
class SeriesActivation(ReparamModule):
    """Series informed activation (paper Eq. 6): ``BN(DWConv(ReLU(x)))``.

    A depthwise ``(2n+1) x (2n+1)`` conv without bias (padding n) over the ReLU, then
    ``BatchNorm2d(eps=1e-6)``: ``A_s(x_{h,w,c}) = sum_{i,j} a_{i,j,c} ReLU(x_{i+h,j+w,c}) + b_c``.
    The train-time kernel is the parameter ``weight`` (official layout); after fusion the BN
    is folded into a biased depthwise conv, ``fused_conv``.

    Args:
        channels (int): Channels (the conv is depthwise).
        act_num (int): n; the kernel is ``2n+1`` wide (3 -> 7x7; the official detection
            configs use 4). 0 gives a 1x1 kernel. Defaults to 3.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, channels: int, act_num: int = 3, deploy: bool = False, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        if isinstance(act_num, bool) or not isinstance(act_num, int) or act_num < 0:
            raise ValueError(f'act_num {act_num!r} is not allowed: it must be an int >= 0 '
                             '(the depthwise kernel is 2 * act_num + 1 wide)')
        self.channels = channels
        self.act_num = act_num
        kernel_size = 2 * act_num + 1
        if deploy:
            self.fused_conv = self._depthwise_conv(bias=True)
        else:
            self.weight = nn.Parameter(torch.empty(channels, 1, kernel_size, kernel_size))
            trunc_normal_(self.weight, std=.02)  # official init
            self.bn = nn.BatchNorm2d(channels, eps=BN_EPS)

    def _depthwise_conv(self, bias: bool, device=None) -> nn.Conv2d:
        return nn.Conv2d(self.channels, self.channels, 2 * self.act_num + 1,
                         padding=self.act_num, groups=self.channels, bias=bias, device=device)

    def forward(self, x):
        x = F.relu(x)
        if self.deploy:
            return self.fused_conv(x)
        return self.bn(F.conv2d(x, self.weight, None, padding=self.act_num,
                                groups=self.channels))

    def _fuse(self):
        branch = fuse_conv_bn(self.weight, None, self.bn)
        # the kernel is a bare parameter: a meta conv gives the geometry
        self.fused_conv = conv_from_branch(branch, self._depthwise_conv(False, device='meta'))
        del self.weight, self.bn


class DeepTrainingConvs(ReparamModule):
    """What VanillaNet's stem, blocks and classifier share: ``conv1`` (a conv + BN),
    ``leaky_relu(λ)``, ``conv2`` (a 1x1 conv + BN; the classifier's has no BN), merged into one
    conv with ``conv1``'s geometry once λ = 1, ``fused_conv``. What else the module holds
    (the series activation) is fused with it."""

    def _convs(self, x):
        if self.deploy:
            return self.fused_conv(x)
        return self.conv2(deep_training_activation(self.conv1(x), self.act_lambda))

    def check_fusable(self):
        check_act_lambda_is_one(self)

    def _second_branch(self) -> Branch:
        return self.conv2.get_equivalent_kernel_bias()

    def _fuse(self):
        merged = merge_1x1_after_kxk(self.conv1.get_equivalent_kernel_bias(),
                                     self._second_branch())
        self.fused_conv = conv_from_branch(merged, self.conv1.conv)
        del self.conv1, self.conv2, self.act_lambda
        reparameterize_children(self)


@MODELS.register_module()
class VanillaBlock(DeepTrainingConvs):
    """VanillaNet's stage: ``SeriesAct(Pool(BN(conv1x1(A'(BN(conv1x1 x))))))``.

    Train-time: a 1x1 conv (in -> in, bias) + BN, the deep-training activation
    ``leaky_relu(x, λ)``, a 1x1 conv (in -> out, bias) + BN, the pool (``MaxPool2d(stride)``,
    ``AdaptiveMaxPool2d(ada_pool)`` for the ada-pool arch, identity at stride 1) and a
    :class:`SeriesActivation`. Deploy (only equivalent at λ = 1): one 1x1 conv (in -> out,
    bias), ``fused_conv``, the pool and the fused series activation.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        act_num (int): n of the series activation's ``(2n+1)^2`` kernel. Defaults to 3.
        stride (int): Max-pool size and stride; 1 for no pool. Defaults to 1.
        ada_pool (int, optional): Output size of an adaptive max pool replacing the max pool
            (strided stages only). Defaults to None.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, act_num: int = 3, stride: int = 1,
                 ada_pool: Optional[int] = None, deploy: bool = False, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        if deploy:
            self.fused_conv = nn.Conv2d(in_channels, out_channels, 1, bias=True)
        else:
            self.conv1 = conv_bn(in_channels, in_channels, 1)
            self.conv2 = conv_bn(in_channels, out_channels, 1)
            register_act_lambda(self)
        # Pool before the series activation: max pool and ReLU commute, as in the official code.
        self.pool = _build_pool(stride, ada_pool)
        self.act = SeriesActivation(out_channels, act_num, deploy=deploy)

    def forward(self, x):
        return self.act(self.pool(self._convs(x)))


@MODELS.register_module()
class VanillaStem(DeepTrainingConvs):
    """VanillaNet's stem: ``SeriesAct(BN(conv1x1(A'(BN(conv4x4 x)))))``.

    Train-time: a 4x4 conv (``stride``, ``padding``, bias) + BN, ``leaky_relu(x, λ)``, a 1x1
    conv (bias) + BN and a :class:`SeriesActivation`. Deploy: one 4x4 conv, ``fused_conv``
    (exact with padding: the merged 1x1 conv comes after the 4x4 one), and the fused series
    activation.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        act_num (int): n of the series activation. Defaults to 3.
        stride (int): Stride of the 4x4 conv; 4, or 3 for the ada-pool arch. Defaults to 4.
        padding (int): Padding of the 4x4 conv; 0, or 1 for the ada-pool arch. Defaults to 0.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, act_num: int = 3, stride: int = 4,
                 padding: int = 0, deploy: bool = False, init_cfg=None):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        if deploy:
            self.fused_conv = nn.Conv2d(in_channels, out_channels, 4, stride, padding, bias=True)
        else:
            self.conv1 = conv_bn(in_channels, out_channels, 4, stride, padding)
            self.conv2 = conv_bn(out_channels, out_channels, 1)
            register_act_lambda(self)
        self.act = SeriesActivation(out_channels, act_num, deploy=deploy)

    def forward(self, x):
        return self.act(self._convs(x))
