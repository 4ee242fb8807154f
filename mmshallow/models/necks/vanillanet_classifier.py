"""VanillaNet's classifier, for the neck slot of an mmpretrain ``ImageClassifier`` (so that
mmshallow needs no mmpretrain import)."""
import functools
import warnings

import torch
import torch.nn as nn

from mmshallow.registry import MODELS
from ..layers.fusion import Branch
from ..layers.vanillanet_blocks import DeepTrainingConvs, conv_bn, register_act_lambda
from .inputs import last_input


@MODELS.register_module()
class VanillaNetClassifier(DeepTrainingConvs):
    """The official VanillaNet classifier: returns the logits ``(N, num_classes)`` in a tuple.

    Train-time: global average pool, dropout, a 1x1 conv (C -> num_classes, bias) + BN, the
    deep-training activation ``leaky_relu(x, λ)`` and a 1x1 conv (num_classes -> num_classes,
    bias; the official ``cls2``). Deploy (equivalent at λ = 1): pool, dropout and one 1x1 conv,
    ``fused_conv``. It gives the logits, so in an mmpretrain ``ImageClassifier`` it takes the
    neck slot, with mmpretrain's ``ClsHead`` (the loss, on the logits as they are)::

        neck=dict(type='mmshallow.VanillaNetClassifier', in_channels=4096, num_classes=1000),
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
        x = self.dropout(self.pool(last_input(self, inputs, self.in_channels)))
        return (torch.flatten(self._convs(x), 1), )

    def _second_branch(self) -> Branch:
        return self.conv2.weight, self.conv2.bias  # the official cls2 has no BN


@functools.lru_cache(maxsize=None)
def warn_renamed(old: str, new: str) -> None:
    """Warn, once per process, that ``old`` is the deprecated name of ``new``."""
    warnings.warn(f"'{old}' is deprecated: it is the classifier {new} (it returns the logits, "
                  f"not features); write type='mmshallow.{new}' in the config", FutureWarning,
                  stacklevel=3)


@MODELS.register_module()
class VanillaNetClsNeck(VanillaNetClassifier):
    """Deprecated name of :class:`VanillaNetClassifier`, kept so that configs and checkpoints
    written for it still build and load (same arguments and state-dict keys); warns once."""

    def __init__(self, *args, **kwargs):
        warn_renamed('VanillaNetClsNeck', 'VanillaNetClassifier')
        super().__init__(*args, **kwargs)
