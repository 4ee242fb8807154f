from .base_backbone import BaseShallowBackbone
from .repvgg import RepVGG

__all__ = ['BaseShallowBackbone', 'RepVGG']
