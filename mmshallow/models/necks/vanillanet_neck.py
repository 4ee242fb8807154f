"""VanillaNet's classifier as a neck, so mmshallow needs no mmpretrain import."""
import torch
import torch.nn as nn

from mmshallow.registry import MODELS
from ..layers.fusion import conv_from_branch, fuse_conv_bn, merge_1x1_after_kxk
from ..layers.reparam import ReparamModule
from ..layers.vanillanet_blocks import (check_act_lambda_is_one, conv_bn,
                                        deep_training_activation, register_act_lambda)


@MODELS.register_module()
class VanillaNetClsNeck(ReparamModule):
    """The official VanillaNet classifier, returning the logits ``(N, num_classes)`` in a tuple.

    Train-time: global average pool, dropout, a 1x1 conv (C -> num_classes, bias) + BN, the
    deep-training activation ``leaky_relu(x, λ)`` and a 1x1 conv (num_classes -> num_classes,
    bias; the official ``cls2``). Deploy (equivalent at λ = 1): pool, dropout and one 1x1 conv,
    ``fused_conv``. In an mmpretrain ``ImageClassifier`` pair it with mmpretrain's ``ClsHead``,
    which takes the logits as they are::

        neck=dict(type='mmshallow.VanillaNetClsNeck', in_channels=4096, num_classes=1000),
        head=dict(type='ClsHead', loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
                  topk=(1, 5))

    Args:
        in_channels (int): Channels of the last backbone output.
        num_classes (int): Number of classes.
        dropout (float): Dropout rate before the first conv (official ``drop_rate``).
            Defaults to 0.
        deploy (bool): Build the fused structure. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config. Defaults to the
            official one: truncated normal (std 0.02) conv weights, zero biases, BN weight 1.
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.0,
                 deploy: bool = False,
                 init_cfg=[
                     dict(type='TruncNormal', layer='Conv2d', std=.02, bias=0.),
                     dict(type='Constant', layer='_BatchNorm', val=1., bias=0.)
                 ]):
        super().__init__(deploy=deploy, init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        if deploy:
            self.fused_conv = nn.Conv2d(in_channels, num_classes, 1, bias=True)
        else:
            self.conv1 = conv_bn(in_channels, num_classes, 1)
            self.conv2 = nn.Conv2d(num_classes, num_classes, 1, bias=True)
            register_act_lambda(self)

    def forward(self, inputs):
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.shape[1] != self.in_channels:
            raise ValueError(f'VanillaNetClsNeck was built for in_channels={self.in_channels} '
                             f'but got {x.shape[1]} channels; set in_channels to the '
                             "backbone's last out_channels")
        x = self.dropout(self.pool(x))
        if self.deploy:
            x = self.fused_conv(x)
        else:
            x = self.conv2(deep_training_activation(self.conv1(x), self.act_lambda))
        return (torch.flatten(x, 1), )

    def check_fusable(self):
        check_act_lambda_is_one(self)

    def _fuse(self):
        first = fuse_conv_bn(self.conv1.conv.weight, self.conv1.conv.bias, self.conv1.bn)
        second = (self.conv2.weight, self.conv2.bias)
        self.fused_conv = conv_from_branch(merge_1x1_after_kxk(first, second), self.conv1.conv)
        del self.conv1, self.conv2, self.act_lambda
