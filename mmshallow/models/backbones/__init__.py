from .base_backbone import BaseShallowBackbone
from .parnet import ParNet
from .repvgg import RepVGG
from .vanillanet import VanillaNet

__all__ = ['BaseShallowBackbone', 'ParNet', 'RepVGG', 'VanillaNet']
