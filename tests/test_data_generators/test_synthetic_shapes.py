import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmshallow.data_generators import SHAPES_CLASSES, generate_shapes_coco
from mmshallow.data_generators.synthetic_shapes import _mask_and_box, _random_geometry

SMALL = dict(num_train=6, num_val=3, image_size=96, seed=0, max_objects=4)


@pytest.fixture(scope='module')
def small_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp('shapes')
    return generate_shapes_coco(str(out), **SMALL)


def _read_tree(info):
    """{relative path: bytes} of every file the generator wrote."""
    files = {}
    for split in ('train', 'val'):
        ann = info[f'{split}_ann_file']
        files[osp.relpath(ann, info['out_dir'])] = open(ann, 'rb').read()
        for img in json.loads(files[osp.relpath(ann, info['out_dir'])])['images']:
            path = osp.join(info[f'{split}_img_dir'], img['file_name'])
            files[osp.relpath(path, info['out_dir'])] = open(path, 'rb').read()
    return files


def test_layout_and_valid_coco(small_dataset):
    from pycocotools.coco import COCO
    info = small_dataset
    assert info['num_train'] == 6 and info['num_val'] == 3
    for split, n in (('train', 6), ('val', 3)):
        ann_file = osp.join(info['out_dir'], 'annotations', f'instances_{split}2017.json')
        assert info[f'{split}_ann_file'] == ann_file
        assert info[f'{split}_img_dir'] == osp.join(info['out_dir'], f'{split}2017')
        coco = COCO(ann_file)
        assert len(coco.getImgIds()) == n
        assert len(coco.getAnnIds()) == info[f'num_{split}_objects'] >= n  # >= 1 per image
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(SHAPES_CLASSES)
        for img in coco.loadImgs(coco.getImgIds()):
            arr = cv2.imread(osp.join(info[f'{split}_img_dir'], img['file_name']))
            assert arr is not None and arr.shape == (img['height'], img['width'], 3) == (96, 96, 3)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img['id']))
            assert 1 <= len(anns) <= SMALL['max_objects']
            for ann in anns:
                x, y, w, h = ann['bbox']
                assert x >= 0 and y >= 0 and w > 0 and h > 0
                assert x + w <= img['width'] and y + h <= img['height']
                # A filled shape covers a good part of its tight box, never more than all of it.
                assert 0.3 * w * h <= ann['area'] <= w * h
                assert ann['iscrowd'] == 0 and ann['category_id'] in (1, 2, 3)
                poly = ann['segmentation'][0]
                assert len(poly) % 2 == 0 and len(poly) >= 6


@pytest.mark.parametrize('name', SHAPES_CLASSES)
def test_box_is_tight_box_of_mask(name):
    rng = np.random.default_rng(123)
    for _ in range(20):
        geom = _random_geometry(rng, name, 64)
        mask, bbox, area = _mask_and_box(geom, 64, 64)
        ys, xs = np.nonzero(mask)
        assert bbox == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
        assert all(isinstance(v, float) for v in bbox) and area == float(mask.sum())
        # Inside the image, sized 12%..35% of the side (x1.37 for a 15-degree square, + rounding).
        assert xs.min() >= 0 and ys.min() >= 0 and xs.max() < 64 and ys.max() < 64
        assert 0.12 * 64 - 2 <= max(bbox[2], bbox[3]) <= 0.35 * 64 * 1.37 + 2


def test_unknown_class_raises():
    with pytest.raises(ValueError):
        _random_geometry(np.random.default_rng(0), 'hexagon', 64)


def test_deterministic(small_dataset, tmp_path):
    again = generate_shapes_coco(str(tmp_path / 'again'), **SMALL)
    assert _read_tree(again) == _read_tree(small_dataset)
    other = generate_shapes_coco(str(tmp_path / 'other'), **dict(SMALL, seed=1))
    a, b = _read_tree(small_dataset), _read_tree(other)
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a)
    # Train and val never share an image.
    train = {v for k, v in a.items() if k.startswith('train2017')}
    assert not train & {v for k, v in a.items() if k.startswith('val2017')}


@pytest.mark.needs_mmcv_ops
def test_mmdet_coco_dataset_loads(small_dataset):
    pytest.importorskip('mmdet')
    from mmdet.datasets import CocoDataset
    from mmdet.utils import register_all_modules
    register_all_modules()
    ds = CocoDataset(data_root=small_dataset['out_dir'],
                     ann_file='annotations/instances_val2017.json',
                     data_prefix=dict(img='val2017/'), metainfo=dict(classes=SHAPES_CLASSES),
                     pipeline=[], test_mode=False)
    assert len(ds) == 3
    labels = [inst['bbox_label'] for i in range(len(ds)) for inst in ds[i]['instances']]
    assert len(labels) == small_dataset['num_val_objects']
    assert set(labels) <= {0, 1, 2}
    assert osp.isfile(ds[0]['img_path'])


def test_cli(load_tool, tmp_path, capsys):
    out = tmp_path / 'cli'
    info = load_tool('make_shapes_coco').main([str(out), '--train', '4', '--val', '2',
                                               '--size', '96'])
    assert (out / 'annotations' / 'instances_train2017.json').is_file()
    assert (out / 'annotations' / 'instances_val2017.json').is_file()
    assert info['num_train'] == 4 and info['num_val'] == 2
    assert 'train 4 images' in capsys.readouterr().out
