from .ghostnet_neck import GhostNetClsNeck
from .parnet_necks import ParNetDownsampleNeck, ParNetFusionNeck
from .vanillanet_neck import VanillaNetClsNeck

__all__ = ['GhostNetClsNeck', 'ParNetDownsampleNeck', 'ParNetFusionNeck', 'VanillaNetClsNeck']
