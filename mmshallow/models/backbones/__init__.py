from .base_backbone import BaseShallowBackbone
from .mobilenext import MobileNeXt
from .parameternet import ParameterNet
from .parnet import ParNet
from .qarepvgg import QARepVGG
from .repvgg import RepVGG
from .vanillanet import VanillaNet

__all__ = ['BaseShallowBackbone', 'MobileNeXt', 'ParameterNet', 'ParNet', 'QARepVGG', 'RepVGG',
           'VanillaNet']
