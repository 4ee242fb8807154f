"""Small synthetic datasets for quickstarts and smoke tests."""
from .synthetic_shapes import SHAPES_CLASSES, generate_shapes_coco

__all__ = ['SHAPES_CLASSES', 'generate_shapes_coco']
