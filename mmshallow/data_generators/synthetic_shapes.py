"""A deterministic synthetic detection dataset ("shapes") in COCO 2017's layout.

Each image has a textured background (a smooth two-color gradient, sinusoidal stripes of random
frequency and orientation, and low-amplitude noise) and 1..``max_objects`` filled shapes (circle,
square, triangle) in solid colors that contrast with what lies under them. The layout is exactly
COCO 2017's, so mmdet's stock COCO configs work with ``data_root=out_dir``::

    out_dir/train2017/000001.jpg ...
    out_dir/val2017/000001.jpg ...
    out_dir/annotations/instances_train2017.json
    out_dir/annotations/instances_val2017.json

Boxes are exact: each object is drawn into its own binary mask with the very parameters used to
draw it into the image, and its COCO box is the tight box of the mask's pixels.
"""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

SHAPES_CLASSES = ('circle', 'square', 'triangle')

# Object size (box side / diameter) as a fraction of the image side.
_MIN_SIZE, _MAX_SIZE = 0.12, 0.35
# A placement whose box IoU with an already placed box exceeds this is rejected.
_MAX_IOU = 0.1
_PLACEMENT_TRIES = 50
# Mean absolute RGB difference an object color must have from what it covers.
_MIN_CONTRAST = 60.0
_COLOR_TRIES = 30
_CLASS_COLOR_JITTER = 25
_CIRCLE_POINTS = 32
_JPEG_QUALITY = 95
_SPLITS = ('train', 'val')


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A textured RGB background: gradient + stripes + noise, different for every image.

    Args:
        rng: The image's random generator.
        size: Image side in pixels.

    Returns:
        np.ndarray: ``(size, size, 3)`` uint8 RGB image.
    """
    coords = np.arange(size, dtype=np.float32) / max(size - 1, 1)
    xx, yy = np.meshgrid(coords, coords)
    # Smooth gradient between two random colors along a random direction.
    theta = rng.uniform(0, 2 * math.pi)
    t = xx * math.cos(theta) + yy * math.sin(theta)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    c0, c1 = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
    img = c0 + t[..., None] * (c1 - c0)
    # Stripes of random frequency / orientation / color, so the background is not flat.
    phi = rng.uniform(0, math.pi)
    cycles = rng.uniform(2.0, 14.0)
    phase = rng.uniform(0, 2 * math.pi)
    wave = np.sin(2 * math.pi * cycles * (xx * math.cos(phi) + yy * math.sin(phi)) + phase)
    stripe_color = rng.uniform(-1.0, 1.0, size=3).astype(np.float32)
    img += rng.uniform(8.0, 30.0) * wave[..., None] * stripe_color
    # Low-amplitude pixel noise.
    img += rng.normal(0.0, rng.uniform(2.0, 8.0), size=img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _random_geometry(rng: np.random.Generator, class_name: str, size: int) -> dict:
    """Random integer geometry of one shape that lies fully inside a ``size`` x ``size`` image.

    Integer geometry makes the image drawing and the mask drawing identical pixel for pixel.

    Args:
        rng: The image's random generator.
        class_name: One of :data:`SHAPES_CLASSES`.
        size: Image side in pixels.

    Returns:
        dict: ``dict(kind='circle', center=(cx, cy), radius=r)`` or
        ``dict(kind='poly', points=int32 array (N, 2))``.
    """
    extent = rng.uniform(_MIN_SIZE, _MAX_SIZE) * size
    if class_name == 'circle':
        radius = max(int(round(extent / 2)), 2)
        cx = int(rng.integers(radius, size - radius))
        cy = int(rng.integers(radius, size - radius))
        return dict(kind='circle', center=(cx, cy), radius=radius)
    if class_name == 'square':
        # Axis-aligned or slightly rotated.
        angle = math.radians(rng.uniform(-15.0, 15.0))
        half = extent / 2
        base = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
    elif class_name == 'triangle':
        # Equilateral with side ``extent``, any rotation.
        angle = rng.uniform(0, 2 * math.pi)
        circum = extent / math.sqrt(3)
        k = np.arange(3) * (2 * math.pi / 3)
        base = circum * np.stack([np.cos(k), np.sin(k)], axis=1)
    else:
        raise ValueError(f'unknown shape class {class_name!r}, expected one of {SHAPES_CLASSES}')
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    pts = base @ rot.T
    pts -= pts.min(axis=0)
    span = pts.max(axis=0)
    # Uniform offset that keeps every (rounded) vertex inside [0, size - 1].
    offset = rng.uniform(0, np.maximum(size - 1 - span, 0))
    pts = np.clip(np.rint(pts + offset), 0, size - 1).astype(np.int32)
    return dict(kind='poly', points=pts)


def _draw(target: np.ndarray, geom: dict, color) -> None:
    """Fill ``geom`` into ``target`` in place (no anti-aliasing, so masks match images).

    Args:
        target: uint8 image ``(H, W, 3)`` or mask ``(H, W)``.
        geom: Geometry from :func:`_random_geometry`.
        color: A scalar for masks or an RGB tuple for images.
    """
    if geom['kind'] == 'circle':
        cv2.circle(target, geom['center'], geom['radius'], color, thickness=-1,
                   lineType=cv2.LINE_8)
    else:
        cv2.fillPoly(target, [geom['points'].reshape(-1, 1, 2)], color, lineType=cv2.LINE_8)


def _mask_and_box(geom: dict, height: int, width: int) -> Tuple[np.ndarray, List[float], float]:
    """Binary mask of one shape and its exact COCO box and area.

    Args:
        geom: Geometry from :func:`_random_geometry`.
        height: Image height.
        width: Image width.

    Returns:
        tuple: ``(mask, bbox, area)``: uint8 mask in {0, 1}, COCO ``[x, y, w, h]`` of the
        mask's tight box (inclusive pixels, so ``w = x_max - x_min + 1``) and its pixel count.
    """
    mask = np.zeros((height, width), dtype=np.uint8)
    _draw(mask, geom, 1)
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    bbox = [float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1)]
    return mask, bbox, float(len(xs))


def _segmentation(geom: dict) -> List[List[float]]:
    """COCO polygon of the shape outline (circles approximated by 32 points)."""
    if geom['kind'] == 'circle':
        cx, cy = geom['center']
        k = np.arange(_CIRCLE_POINTS) * (2 * math.pi / _CIRCLE_POINTS)
        pts = np.stack([cx + geom['radius'] * np.cos(k), cy + geom['radius'] * np.sin(k)], 1)
        pts = np.round(pts, 2)
    else:
        pts = geom['points']
    return [[float(v) for v in pts.reshape(-1)]]


def _box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two COCO ``[x, y, w, h]`` boxes."""
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _contrasting_color(rng: np.random.Generator, under: np.ndarray) -> Tuple[int, int, int]:
    """A random RGB color whose mean abs difference from ``under``'s mean exceeds 60.

    Args:
        rng: The image's random generator.
        under: ``(N, 3)`` pixels the object will cover.

    Returns:
        tuple: RGB color as Python ints (what cv2 wants).
    """
    mean = under.reshape(-1, 3).mean(axis=0)
    for _ in range(_COLOR_TRIES):
        color = rng.integers(0, 256, size=3)
        if np.abs(color - mean).mean() > _MIN_CONTRAST:
            return tuple(int(c) for c in color)
    # Fallback: the per-channel opposite extreme always differs by >= 128 on average.
    return tuple(0 if m >= 128 else 255 for m in mean)


def _class_color(rng: np.random.Generator, base: Sequence[int]) -> Tuple[int, int, int]:
    """``base`` RGB jittered by up to +-_CLASS_COLOR_JITTER per channel."""
    color = np.clip(np.asarray(base) + rng.integers(-_CLASS_COLOR_JITTER,
                                                    _CLASS_COLOR_JITTER + 1, size=3), 0, 255)
    return tuple(int(c) for c in color)


def _render_image(rng: np.random.Generator, size: int, max_objects: int,
                  class_colors: Optional[Sequence[Sequence[int]]] = None
                  ) -> Tuple[np.ndarray, List[dict]]:
    """One RGB image and its objects.

    Args:
        rng: The image's random generator.
        size: Image side in pixels.
        max_objects: At most this many objects (at least one).
        class_colors: One base RGB color per class of :data:`SHAPES_CLASSES` (jittered per
            object), or None: a random color that contrasts with what the object covers.

    Returns:
        tuple: ``(image, objects)`` with ``image`` an RGB uint8 array and ``objects`` a list of
        ``dict(category_id, bbox, area, segmentation, mask)`` in drawing order (``mask``: the
        shape's own uint8 mask; a later object covers an earlier one where they overlap).
    """
    img = _background(rng, size)
    objects: List[dict] = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        label = int(rng.integers(len(SHAPES_CLASSES)))
        for _ in range(_PLACEMENT_TRIES):
            geom = _random_geometry(rng, SHAPES_CLASSES[label], size)
            mask, bbox, area = _mask_and_box(geom, size, size)
            if all(_box_iou(bbox, o['bbox']) <= _MAX_IOU for o in objects):
                break
        else:
            continue  # no room left: fewer objects in this image
        # Contrast against what is under the object now (earlier objects included).
        color = (_contrasting_color(rng, img[mask.astype(bool)]) if class_colors is None
                 else _class_color(rng, class_colors[label]))
        _draw(img, geom, color)  # later objects are drawn over earlier ones
        objects.append(dict(category_id=label + 1, bbox=bbox, area=area,
                            segmentation=_segmentation(geom), mask=mask))
    return img, objects


def render_shapes_sample(rng: np.random.Generator, size: int, max_objects: int = 4,
                         class_colors: Optional[Sequence[Sequence[int]]] = None
                         ) -> Tuple[np.ndarray, np.ndarray]:
    """One shapes image and its exact label map (what the segmentation sets are made of).

    The image is drawn exactly as in the detection set; the label map holds, per pixel, 0 for
    the background or the 1-based index in :data:`SHAPES_CLASSES` of the shape drawn last
    there (the one visible in the image).

    Args:
        rng: The image's random generator.
        size: Image side in pixels (at least 32).
        max_objects: At most this many objects (at least one).
        class_colors: Optional base RGB color per shape class (see :func:`_render_image`).

    Returns:
        tuple: ``(image, labels)``: ``(size, size, 3)`` RGB uint8 image and ``(size, size)``
        uint8 label map.
    """
    img, objects = _render_image(rng, size, max_objects, class_colors)
    labels = np.zeros((size, size), dtype=np.uint8)
    for obj in objects:
        labels[obj['mask'].astype(bool)] = obj['category_id']
    return img, labels


def _write_split(out_dir: str, split: str, num_images: int, size: int, seed: int,
                 max_objects: int) -> Tuple[str, str, int]:
    """Write one split's images and annotation file.

    Returns:
        tuple: ``(image_dir, ann_file, num_objects)``.
    """
    img_dir = osp.join(out_dir, f'{split}2017')
    ann_file = osp.join(out_dir, 'annotations', f'instances_{split}2017.json')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.dirname(ann_file), exist_ok=True)
    split_index = _SPLITS.index(split)
    images, annotations = [], []
    for image_id in range(1, num_images + 1):
        # One generator per (seed, split, image): splits never share a stream, and image i is
        # the same whatever the number of images asked for.
        rng = np.random.default_rng([seed, split_index, image_id])
        img, objects = _render_image(rng, size, max_objects)
        file_name = f'{image_id:06d}.jpg'
        ok = cv2.imwrite(osp.join(img_dir, file_name), np.ascontiguousarray(img[..., ::-1]),
                         [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY])
        if not ok:
            raise OSError(f'could not write {osp.join(img_dir, file_name)}')
        images.append(dict(id=image_id, file_name=file_name, width=size, height=size))
        for obj in objects:
            obj.pop('mask')
            annotations.append(dict(id=len(annotations) + 1, image_id=image_id, iscrowd=0, **obj))
    coco = dict(
        info=dict(description='mmshallow synthetic shapes', version='1.0', seed=seed,
                  split=split),
        licenses=[],
        images=images,
        annotations=annotations,
        categories=[dict(id=i + 1, name=name, supercategory='shape')
                    for i, name in enumerate(SHAPES_CLASSES)])
    with open(ann_file, 'w') as f:
        json.dump(coco, f, sort_keys=True, separators=(',', ':'))
        f.write('\n')
    return img_dir, ann_file, len(annotations)


def generate_shapes_coco(out_dir: str, num_train: int = 300, num_val: int = 60,
                         image_size: int = 256, seed: int = 0,
                         max_objects: int = 4) -> Dict[str, object]:
    """Generate the synthetic shapes detection dataset in COCO 2017's layout.

    Deterministic: the same arguments give byte-identical JSON files and identical images.
    Existing files of the same names are overwritten; nothing else in ``out_dir`` is touched.

    Args:
        out_dir: Dataset root (use it as mmdet's ``data_root``).
        num_train: Number of training images.
        num_val: Number of validation images.
        image_size: Side of the square images in pixels (at least 32).
        seed: Random seed; train and val use independent streams derived from it.
        max_objects: Each image has 1..``max_objects`` objects (fewer if they do not fit).

    Returns:
        dict: ``out_dir``, ``train_img_dir``, ``val_img_dir``, ``train_ann_file``,
        ``val_ann_file``, ``num_train``, ``num_val``, ``num_train_objects``,
        ``num_val_objects``.
    """
    if num_train < 0 or num_val < 0:
        raise ValueError('num_train and num_val must be >= 0')
    if image_size < 32:
        raise ValueError(f'image_size must be >= 32, got {image_size}')
    if max_objects < 1:
        raise ValueError(f'max_objects must be >= 1, got {max_objects}')
    result: Dict[str, object] = dict(out_dir=out_dir)
    for split, num in zip(_SPLITS, (num_train, num_val)):
        img_dir, ann_file, num_objects = _write_split(out_dir, split, int(num), int(image_size),
                                                      int(seed), int(max_objects))
        result.update({f'{split}_img_dir': img_dir, f'{split}_ann_file': ann_file,
                       f'num_{split}': int(num), f'num_{split}_objects': num_objects})
    return result
