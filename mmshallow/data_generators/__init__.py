"""Generators of the small data sets the quickstarts and tests run on, written to disk in the
layouts OpenMMLab's datasets read: synthetic shapes in COCO's layout and as segmentation masks
in mmseg's img_dir/ann_dir layout, scikit-learn's digits as class folders. They are not
``Dataset`` classes: mmdet's ``CocoDataset``, mmseg's ``BaseSegDataset`` and mmpretrain's
``CustomDataset`` load what they write."""
from .digits import DIGITS_CLASSES, export_digits, split_indices
from .segmentation_layouts import (ADE20K_SHAPES_LABELS, CITYSCAPES_SHAPES_TRAIN_IDS,
                                   generate_ade20k_layout, generate_cityscapes_layout)
from .shapes_segmentation import (SHAPES_SEG_CLASSES, SHAPES_SEG_PALETTE,
                                  generate_shapes_segmentation)
from .synthetic_shapes import SHAPES_CLASSES, generate_shapes_coco, render_shapes_sample

__all__ = [
    'ADE20K_SHAPES_LABELS', 'CITYSCAPES_SHAPES_TRAIN_IDS', 'DIGITS_CLASSES', 'SHAPES_CLASSES',
    'SHAPES_SEG_CLASSES', 'SHAPES_SEG_PALETTE', 'export_digits', 'generate_ade20k_layout',
    'generate_cityscapes_layout', 'generate_shapes_coco', 'generate_shapes_segmentation',
    'render_shapes_sample', 'split_indices'
]
