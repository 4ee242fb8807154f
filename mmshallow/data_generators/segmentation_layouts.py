"""Small synthetic sets in the real folder layouts of ADE20K and Cityscapes, so that mmseg's own
``ADE20KDataset`` / ``CityscapesDataset`` and the unchanged ``mmseg::_base_/datasets`` configs
read them (tests, smoke runs; no download)::

    <root>/ADEChallengeData2016/images/{training,validation}/ADE_<split>_<n>.jpg
    <root>/ADEChallengeData2016/annotations/{training,validation}/ADE_<split>_<n>.png

    <root>/leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png

The pictures are the synthetic shapes (:func:`render_shapes_sample`: textured background,
circles, squares, triangles) with exact label maps, the shapes' labels mapped to some of the
dataset's classes (:data:`ADE20K_SHAPES_LABELS`, :data:`CITYSCAPES_SHAPES_TRAIN_IDS`).
Annotations are stored as the datasets store them: ADE20K's PNGs hold 0 for "other"
(unlabeled, which mmseg's ``reduce_zero_label=True`` turns into 255 = ignored) and 1..150 for
its classes; Cityscapes' ``*_labelTrainIds.png`` (what mmseg's ``cityscapes.py`` converter
writes from ``*_labelIds.png``) hold trainIds 0..18 and 255 (ignored). A one-pixel frame of
each label map is left unlabeled ("other" / 255), so the ignore path is exercised too.
Cityscapes' 1:2 frames are two independent square pictures side by side.
Deterministic: the same arguments give identical files.
"""
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np

from .synthetic_shapes import render_shapes_sample

# ADE20K annotation values (1-based class indices; 0 = "other") for background, circle, square,
# triangle: 'wall', 'lamp', 'box', 'signboard'.
ADE20K_SHAPES_LABELS = (1, 37, 42, 44)
# Cityscapes trainIds for background, circle, square, triangle: 'road', 'traffic sign', 'car',
# 'person'.
CITYSCAPES_SHAPES_TRAIN_IDS = (0, 7, 13, 11)

_ADE_SPLITS = ('training', 'validation')
_CITYSCAPES_SPLITS = ('train', 'val')
# real Cityscapes cities of each split
_CITIES = dict(train=('aachen', 'bremen'), val=('frankfurt', ))
_ADE_UNLABELED = 0
_CITYSCAPES_IGNORE = 255
# seed offsets that keep these sets' pictures apart from each other and from the shapes sets
_ADE_STREAM, _CITYSCAPES_STREAM = 11, 13
_JPEG_QUALITY = 95


def _check(num_train: int, num_val: int, size: int, max_objects: int, size_name: str) -> None:
    if not all(isinstance(n, int) and n >= 0 for n in (num_train, num_val)):
        raise ValueError(f'num_train and num_val must be ints >= 0, got {num_train!r}, '
                         f'{num_val!r}')
    if not isinstance(size, int) or size < 32:
        raise ValueError(f'{size_name} must be an int >= 32, got {size!r}')
    if not isinstance(max_objects, int) or max_objects < 1:
        raise ValueError(f'max_objects must be an int >= 1, got {max_objects!r}')


def _labelled(labels: np.ndarray, values: Sequence[int], unlabeled: int) -> np.ndarray:
    """Shape labels (0 = background, 1..3) -> the dataset's values, with an unlabeled frame."""
    out = np.asarray(values, dtype=np.uint8)[labels]
    out[[0, -1], :] = unlabeled
    out[:, [0, -1]] = unlabeled
    return out


def _write(path: str, image: np.ndarray, *params) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, image, list(params)):
        raise OSError(f'could not write {path}')


def generate_ade20k_layout(root: str, num_train: int = 4, num_val: int = 2,
                           image_size: int = 64, seed: int = 0,
                           max_objects: int = 3) -> Dict[str, object]:
    """Write a small set in ADE20K's layout under ``root/ADEChallengeData2016`` (mmseg's
    ``data_root``, ``data/ade/ADEChallengeData2016`` in its configs).

    Args:
        root: Folder that gets ``ADEChallengeData2016/`` (``data/ade``).
        num_train: Images in ``training``.
        num_val: Images in ``validation``.
        image_size: Side of the square images in pixels (at least 32).
        seed: Random seed; the splits use independent streams derived from it.
        max_objects: Each image has 1..``max_objects`` shapes.

    Returns:
        dict: ``data_root`` and, per split (``training``, ``validation``), the number of images
        and the annotation values present (``<split>_labels``, sorted).
    """
    _check(num_train, num_val, image_size, max_objects, 'image_size')
    data_root = osp.join(root, 'ADEChallengeData2016')
    result: Dict[str, object] = dict(data_root=data_root)
    for split_index, (split, num) in enumerate(zip(_ADE_SPLITS, (num_train, num_val))):
        present = set()
        for i in range(1, num + 1):
            rng = np.random.default_rng([seed, _ADE_STREAM, split_index, i])
            image, labels = render_shapes_sample(rng, image_size, max_objects)
            ann = _labelled(labels, ADE20K_SHAPES_LABELS, _ADE_UNLABELED)
            present.update(np.unique(ann).tolist())
            name = f'ADE_{"train" if split == "training" else "val"}_{i:08d}'
            _write(osp.join(data_root, 'images', split, f'{name}.jpg'),
                   cv2.cvtColor(image, cv2.COLOR_RGB2BGR), cv2.IMWRITE_JPEG_QUALITY,
                   _JPEG_QUALITY)
            _write(osp.join(data_root, 'annotations', split, f'{name}.png'), ann)
        result[split] = num
        result[f'{split}_labels'] = sorted(present)
    return result


def generate_cityscapes_layout(root: str, num_train: int = 4, num_val: int = 2,
                               image_height: int = 64, seed: int = 0,
                               max_objects: int = 3) -> Dict[str, object]:
    """Write a small set in Cityscapes' layout under ``root`` (mmseg's ``data_root``,
    ``data/cityscapes/`` in its configs): ``leftImg8bit/`` PNGs of ``image_height`` x
    ``2 * image_height`` and ``gtFine/*_gtFine_labelTrainIds.png``. Images go round the split's
    cities (train: aachen, bremen; val: frankfurt).

    Args:
        root: The dataset root (``data/cityscapes``).
        num_train: Images in ``train``.
        num_val: Images in ``val``.
        image_height: Height in pixels (at least 32); the width is twice it.
        seed: Random seed; the splits use independent streams derived from it.
        max_objects: Each half of an image has 1..``max_objects`` shapes.

    Returns:
        dict: ``data_root`` and, per split (``train``, ``val``), the number of images and the
        trainIds present (``<split>_labels``, sorted, 255 included).
    """
    _check(num_train, num_val, image_height, max_objects, 'image_height')
    result: Dict[str, object] = dict(data_root=root)
    for split_index, (split, num) in enumerate(zip(_CITYSCAPES_SPLITS, (num_train, num_val))):
        present = set()
        cities = _CITIES[split]
        for i in range(num):
            rng = np.random.default_rng([seed, _CITYSCAPES_STREAM, split_index, i])
            halves = [render_shapes_sample(rng, image_height, max_objects) for _ in range(2)]
            image = np.concatenate([h[0] for h in halves], axis=1)
            labels = np.concatenate([h[1] for h in halves], axis=1)
            train_ids = _labelled(labels, CITYSCAPES_SHAPES_TRAIN_IDS, _CITYSCAPES_IGNORE)
            present.update(np.unique(train_ids).tolist())
            city = cities[i % len(cities)]
            name = f'{city}_{i // len(cities):06d}_{19 + i:06d}'
            _write(osp.join(root, 'leftImg8bit', split, city, f'{name}_leftImg8bit.png'),
                   cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            _write(osp.join(root, 'gtFine', split, city, f'{name}_gtFine_labelTrainIds.png'),
                   train_ids)
        result[split] = num
        result[f'{split}_labels'] = sorted(present)
    return result
