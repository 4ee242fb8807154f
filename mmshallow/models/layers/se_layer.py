from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule

# the two convs' names before GhostNet's SE was this class (its official names, timm's)
_LEGACY_NAMES = (('conv_reduce.', 'reduce.'), ('conv_expand.', 'expand.'))


class SELayer(BaseModule):
    """Squeeze-and-excitation: ``x * gate(expand(act(reduce(GAP(x)))))``, biased 1x1 convs.

    The hidden width is ``channels // ratio`` or, given, ``hidden_channels``. mmshallow's two
    SEs differ only in their arguments:

    - RepVGG-D2se (official ``SEBlock``): ``ratio=16``, ReLU, sigmoid gate. The official code
      pools with a square window of the input width, a global average pool for square
      inputs; this one is global for any shape.
    - GhostNet / ParameterNet (timm's ``SqueezeExcite(gate_fn=hard_sigmoid, divisor=4)``):
      ``hidden_channels=make_divisible(channels * se_ratio, 4)``, the network's activation,
      ``gate_cfg=dict(type=nn.Hardsigmoid)`` (``relu6(x + 3) / 6``).

    Args:
        channels (int): Input and output channels.
        ratio (int): Channel reduction ratio. Defaults to 16.
        act_cfg (dict): Activation between the convs. Defaults to ``dict(type='ReLU')``.
        gate_cfg (dict): Gate activation. Defaults to ``dict(type='Sigmoid')``.
        hidden_channels (int, optional): Hidden width; replaces ``channels // ratio``.
            Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, channels: int, ratio: int = 16, act_cfg=dict(type='ReLU'),
                 gate_cfg=dict(type='Sigmoid'), hidden_channels: Optional[int] = None,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        hidden = channels // ratio if hidden_channels is None else hidden_channels
        if hidden < 1:
            width = f'channels {channels} // ratio {ratio}' if hidden_channels is None else \
                'hidden_channels'
            raise ValueError(f'SELayer: {width} is {hidden}, not a channel count >= 1')
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, hidden, 1, bias=True)
        self.act = build_activation_layer(act_cfg)
        self.expand = nn.Conv2d(hidden, channels, 1, bias=True)
        self.gate = build_activation_layer(gate_cfg)

    def forward(self, x):
        return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # mmshallow checkpoints of ParameterNet saved before the SEs were merged
        for key in [k for k in state_dict if k.startswith(prefix)]:
            for old, new in _LEGACY_NAMES:
                if key.startswith(prefix + old):
                    state_dict[prefix + new + key[len(prefix + old):]] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
