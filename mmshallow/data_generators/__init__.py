"""Generators of the small data sets the quickstarts and tests run on, written to disk in the
layouts OpenMMLab's datasets read: synthetic shapes in COCO's layout, scikit-learn's digits as
class folders. They are not ``Dataset`` classes: mmdet's ``CocoDataset`` and mmpretrain's
``CustomDataset`` load what they write."""
from .digits import DIGITS_CLASSES, export_digits, split_indices
from .synthetic_shapes import SHAPES_CLASSES, generate_shapes_coco

__all__ = [
    'DIGITS_CLASSES', 'SHAPES_CLASSES', 'export_digits', 'generate_shapes_coco', 'split_indices'
]
