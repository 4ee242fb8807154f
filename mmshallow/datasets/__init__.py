"""Small datasets for quickstarts and smoke tests: generated shapes, scikit-learn's digits."""
from .digits import DIGITS_CLASSES, export_digits, split_indices
from .synthetic_shapes import SHAPES_CLASSES, generate_shapes_coco

__all__ = [
    'DIGITS_CLASSES', 'SHAPES_CLASSES', 'export_digits', 'generate_shapes_coco', 'split_indices'
]
