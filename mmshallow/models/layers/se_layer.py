import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule


class SELayer(BaseModule):
    """Squeeze-and-excitation: ``x * gate(expand(act(reduce(GAP(x)))))``.

    RepVGG-D2se's form (the official ``SEBlock``): biased 1x1 convs, ReLU, sigmoid gate, hidden
    width ``channels // ratio``. The official code pools with a square window of the input width,
    which is a global average pool for square inputs; this one is global for any shape.

    Args:
        channels (int): Input and output channels.
        ratio (int): Channel reduction ratio. Defaults to 16.
        act_cfg (dict): Activation between the convs. Defaults to ``dict(type='ReLU')``.
        gate_cfg (dict): Gate activation. Defaults to ``dict(type='Sigmoid')``.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, channels: int, ratio: int = 16, act_cfg=dict(type='ReLU'),
                 gate_cfg=dict(type='Sigmoid'), init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        hidden = channels // ratio
        if hidden < 1:
            raise ValueError(f'SELayer: channels {channels} // ratio {ratio} is 0')
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, hidden, 1, bias=True)
        self.act = build_activation_layer(act_cfg)
        self.expand = nn.Conv2d(hidden, channels, 1, bias=True)
        self.gate = build_activation_layer(gate_cfg)

    def forward(self, x):
        return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))
