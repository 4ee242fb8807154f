"""The synthetic shapes set for semantic segmentation, in mmseg's ``img_dir`` / ``ann_dir``
layout (the segmentation quickstart's data)::

    out_dir/img_dir/train/000001.jpg ...    out_dir/ann_dir/train/000001.png ...
    out_dir/img_dir/val/000001.jpg ...      out_dir/ann_dir/val/000001.png ...

The images are the detection set's (:mod:`.synthetic_shapes`: textured backgrounds, solid
circles, squares and triangles); each annotation is a single-channel PNG whose pixels hold the
class index in :data:`SHAPES_SEG_CLASSES` (0 = background), drawn with the very geometry used
for the image, so the masks are exact. By default each shape class is drawn in its own color
band (:data:`SHAPES_SEG_COLORS`, jittered) so that a small network trained from scratch on two
CPU cores separates the classes within minutes; ``class_colors=False`` draws the detection
set's random contrasting colors, where only the outline tells the classes apart (measured: a
RepVGG UPerNet then finds the shapes but labels them all 'square' for its first 1,500
iterations, mIoU ~35). mmseg's ``BaseSegDataset`` reads it with
``img_suffix='.jpg'``, ``seg_map_suffix='.png'`` and ``reduce_zero_label=False``.
"""
import os
import os.path as osp
from typing import Dict

import cv2
import numpy as np

from .synthetic_shapes import SHAPES_CLASSES, render_shapes_sample

SHAPES_SEG_CLASSES = ('background', ) + SHAPES_CLASSES
# one color per class for viewers (mmseg's metainfo 'palette')
SHAPES_SEG_PALETTE = [[0, 0, 0], [220, 20, 60], [0, 128, 255], [255, 200, 0]]
# the base color each shape class is drawn in (circle, square, triangle)
SHAPES_SEG_COLORS = ((220, 40, 40), (40, 190, 60), (50, 70, 220))
_JPEG_QUALITY = 95
_SPLITS = ('train', 'val')
# seed offset that keeps this set's images apart from the detection set's of the same seed
_STREAM = 7


def generate_shapes_segmentation(out_dir: str, num_train: int = 400, num_val: int = 80,
                                 image_size: int = 128, seed: int = 0,
                                 max_objects: int = 4,
                                 class_colors: bool = True) -> Dict[str, object]:
    """Write the shapes segmentation set (deterministic: the same arguments give identical
    files; existing files of the same names are overwritten, nothing else is touched).

    Args:
        out_dir: Dataset root (mmseg's ``data_root``).
        num_train: Number of training images.
        num_val: Number of validation images.
        image_size: Side of the square images in pixels (at least 32).
        seed: Random seed; train and val use independent streams derived from it.
        max_objects: Each image has 1..``max_objects`` shapes (fewer if they do not fit).
        class_colors: Draw each class in its color band (:data:`SHAPES_SEG_COLORS`); False:
            random contrasting colors, as in the detection set.

    Returns:
        dict: ``out_dir``, ``num_train``, ``num_val`` and per split ``<split>_img_dir``,
        ``<split>_ann_dir`` and ``<split>_pixels`` (pixels per class, background first).
    """
    if num_train < 0 or num_val < 0:
        raise ValueError(f'num_train and num_val must be >= 0, got {num_train}, {num_val}')
    if image_size < 32:
        raise ValueError(f'image_size must be >= 32, got {image_size}')
    if max_objects < 1:
        raise ValueError(f'max_objects must be >= 1, got {max_objects}')
    result: Dict[str, object] = dict(out_dir=out_dir)
    for split_index, (split, num) in enumerate(zip(_SPLITS, (num_train, num_val))):
        img_dir = osp.join(out_dir, 'img_dir', split)
        ann_dir = osp.join(out_dir, 'ann_dir', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        pixels = np.zeros(len(SHAPES_SEG_CLASSES), dtype=np.int64)
        for index in range(1, int(num) + 1):
            rng = np.random.default_rng([int(seed), _STREAM, split_index, index])
            img, labels = render_shapes_sample(
                rng, int(image_size), int(max_objects),
                SHAPES_SEG_COLORS if class_colors else None)
            name = f'{index:06d}'
            for path, array, params in (
                    (osp.join(img_dir, name + '.jpg'), np.ascontiguousarray(img[..., ::-1]),
                     [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]),
                    (osp.join(ann_dir, name + '.png'), labels, [])):
                if not cv2.imwrite(path, array, params):
                    raise OSError(f'could not write {path}')
            pixels += np.bincount(labels.reshape(-1), minlength=len(pixels))
        result.update({f'num_{split}': int(num), f'{split}_img_dir': img_dir,
                       f'{split}_ann_dir': ann_dir, f'{split}_pixels': pixels.tolist()})
    return result
