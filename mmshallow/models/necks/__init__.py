from .parnet_necks import ParNetDownsampleNeck, ParNetFusionNeck
from .vanillanet_neck import VanillaNetClsNeck

__all__ = ['ParNetDownsampleNeck', 'ParNetFusionNeck', 'VanillaNetClsNeck']
