"""GhostNet's classifier neck, so mmshallow needs no mmpretrain import."""
import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule

from mmshallow.registry import MODELS
from .inputs import last_input


@MODELS.register_module()
class GhostNetClsNeck(BaseModule):
    """The official GhostNet / ParameterNet head up to the classifier: global average pool, a
    1x1 conv (``conv_head``, with bias; 1280 channels, not scaled by the width), the
    activation and dropout; returns the feature ``(N, out_channels)`` in a tuple. In an
    mmpretrain ``ImageClassifier`` pair it with ``LinearClsHead``::

        neck=dict(type='mmshallow.GhostNetClsNeck', in_channels=1824,
                  act_cfg=dict(type='HSwish')),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=1280,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, 5))

    Args:
        in_channels (int): Channels of the last backbone output.
        out_channels (int): Channels of ``conv_head``. Defaults to 1280.
        act_cfg (dict): Activation after ``conv_head`` (ReLU in GhostNet, hard swish in
            ParameterNet). Defaults to ``dict(type='ReLU')``.
        dropout (float): Dropout on the feature (the official ``dropout``). Defaults to 0.2.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int = 1280, act_cfg=dict(type='ReLU'),
                 dropout: float = 0.2, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv_head = nn.Conv2d(in_channels, out_channels, 1, bias=True)
        self.act = build_activation_layer(act_cfg)
        self.dropout = nn.Dropout(dropout)

    def forward(self, inputs):
        x = self.act(self.conv_head(self.pool(last_input(self, inputs, self.in_channels))))
        return (self.dropout(torch.flatten(x, 1)), )
