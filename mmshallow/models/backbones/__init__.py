from .base_backbone import BaseShallowBackbone
from .parnet import ParNet
from .repvgg import RepVGG

__all__ = ['BaseShallowBackbone', 'ParNet', 'RepVGG']
