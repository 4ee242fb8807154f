from .ghostnet_neck import GhostNetClsNeck
from .parnet_necks import ParNetDownsampleNeck, ParNetFusionNeck
from .vanillanet_classifier import VanillaNetClassifier, VanillaNetClsNeck

__all__ = ['GhostNetClsNeck', 'ParNetDownsampleNeck', 'ParNetFusionNeck', 'VanillaNetClassifier',
           'VanillaNetClsNeck']
