from .parnet_necks import ParNetDownsampleNeck, ParNetFusionNeck

__all__ = ['ParNetDownsampleNeck', 'ParNetFusionNeck']
