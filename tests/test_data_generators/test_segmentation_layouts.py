import filecmp
from pathlib import Path

import numpy as np
import pytest

from mmshallow.data_generators import (ADE20K_SHAPES_LABELS, CITYSCAPES_SHAPES_TRAIN_IDS,
                                       generate_ade20k_layout, generate_cityscapes_layout)

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'


def files(root):
    return sorted(p.relative_to(root).as_posix() for p in Path(root).rglob('*') if p.is_file())


def test_ade20k_layout_is_the_real_one_and_deterministic(tmp_path):
    info = generate_ade20k_layout(str(tmp_path / 'a'), num_train=2, num_val=1, image_size=32)
    assert files(tmp_path / 'a') == [
        'ADEChallengeData2016/annotations/training/ADE_train_00000001.png',
        'ADEChallengeData2016/annotations/training/ADE_train_00000002.png',
        'ADEChallengeData2016/annotations/validation/ADE_val_00000001.png',
        'ADEChallengeData2016/images/training/ADE_train_00000001.jpg',
        'ADEChallengeData2016/images/training/ADE_train_00000002.jpg',
        'ADEChallengeData2016/images/validation/ADE_val_00000001.jpg']
    assert info['data_root'] == str(tmp_path / 'a' / 'ADEChallengeData2016')
    assert set(info['training_labels']) <= {0, *ADE20K_SHAPES_LABELS}
    generate_ade20k_layout(str(tmp_path / 'b'), num_train=2, num_val=1, image_size=32)
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / 'a', tmp_path / 'b',
                                               files(tmp_path / 'a'), shallow=False)
    assert mismatch == errors == []


def test_cityscapes_layout_is_the_real_one_with_1_to_2_frames(tmp_path):
    import cv2
    info = generate_cityscapes_layout(str(tmp_path), num_train=3, num_val=1, image_height=32)
    names = files(tmp_path)
    assert 'leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png' in names
    assert 'gtFine/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png' in names
    assert 'gtFine/train/bremen/bremen_000000_000020_gtFine_labelTrainIds.png' in names
    assert 'leftImg8bit/val/frankfurt/frankfurt_000000_000019_leftImg8bit.png' in names
    assert len(names) == 8
    image = cv2.imread(str(tmp_path / names[-1]))
    assert image.shape == (32, 64, 3)
    train_ids = cv2.imread(str(tmp_path / names[0]), cv2.IMREAD_UNCHANGED)
    assert train_ids.shape == (32, 64) and train_ids.dtype == np.uint8
    assert set(np.unique(train_ids)) <= {255, *CITYSCAPES_SHAPES_TRAIN_IDS}
    assert 255 in info['train_labels']  # the unlabeled frame


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_train=-1), r'num_train and num_val must be ints >= 0, got -1, 2'),
    (dict(image_size=16), r'image_size must be an int >= 32, got 16'),
    (dict(max_objects=0), r'max_objects must be an int >= 1, got 0'),
])
def test_bad_arguments_are_refused_with_the_value(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_ade20k_layout(str(tmp_path), **kwargs)
    assert not any(tmp_path.iterdir())


def build_dataset(config, data_root, scale, crop):
    """The config's own training dataset and pipeline, on ``data_root``, at a tiny size."""
    pytest.importorskip('mmseg')
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(str(CONFIGS / config))
    init_default_scope('mmseg')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = data_root
    for transform in dataset_cfg.pipeline:
        if 'scale' in transform:
            transform['scale'] = scale
        if transform['type'] == 'RandomCrop':
            transform['crop_size'] = crop
    return DATASETS.build(dataset_cfg)


@pytest.mark.needs_mmcv_ops
def test_mmseg_ade20k_dataset_reads_it_with_the_configs_pipeline(tmp_path):
    info = generate_ade20k_layout(str(tmp_path), num_train=3, num_val=1, image_size=48)
    dataset = build_dataset('repvgg/upernet_repvgg-a0_4xb4-160k_ade20k-512x512.py',
                            info['data_root'], (192, 48), (32, 32))
    assert type(dataset).__name__ == 'ADE20KDataset' and len(dataset) == 3
    seen = set()
    for i in range(len(dataset)):
        sample = dataset[i]
        # RandomResize may shrink below the crop (the data preprocessor pads the batch)
        assert sample['inputs'].shape[0] == 3
        assert sample['inputs'].shape[-2] <= 32 and sample['inputs'].shape[-1] <= 32
        assert sample['data_samples'].gt_sem_seg.data.shape[-2:] == sample['inputs'].shape[-2:]
        seen |= set(sample['data_samples'].gt_sem_seg.data.unique().tolist())
    # reduce_zero_label: 'other' (0) -> 255 (ignored), class k (1..150) -> k - 1
    assert seen <= {255, *(v - 1 for v in ADE20K_SHAPES_LABELS)}
    assert 0 in seen  # 'wall' (1) -> 0; the 255 frame may lie outside the random crops
    assert dataset.metainfo['classes'][ADE20K_SHAPES_LABELS[0] - 1] == 'wall'
    # the unlabeled frame, read without the random crops
    dataset.pipeline.transforms = [t for t in dataset.pipeline.transforms
                                   if type(t).__name__ in ('LoadImageFromFile', 'LoadAnnotations',
                                                           'PackSegInputs')]
    assert 255 in dataset[0]['data_samples'].gt_sem_seg.data.unique().tolist()


@pytest.mark.needs_mmcv_ops
def test_mmseg_cityscapes_dataset_reads_it_with_the_configs_pipeline(tmp_path):
    generate_cityscapes_layout(str(tmp_path), num_train=3, num_val=1, image_height=32)
    dataset = build_dataset('repvgg/upernet_repvgg-a0_4xb2-80k_cityscapes-512x1024.py',
                            str(tmp_path), (64, 32), (32, 64))
    assert type(dataset).__name__ == 'CityscapesDataset' and len(dataset) == 3
    seen = set()
    for i in range(len(dataset)):
        sample = dataset[i]
        # RandomResize may shrink below the crop (the data preprocessor pads the batch)
        assert sample['inputs'].shape[0] == 3
        assert sample['inputs'].shape[-2] <= 32 and sample['inputs'].shape[-1] <= 64
        assert sample['data_samples'].gt_sem_seg.data.shape[-2:] == sample['inputs'].shape[-2:]
        seen |= set(sample['data_samples'].gt_sem_seg.data.unique().tolist())
    assert seen <= {255, *CITYSCAPES_SHAPES_TRAIN_IDS}
    classes = dataset.metainfo['classes']
    assert [classes[i] for i in CITYSCAPES_SHAPES_TRAIN_IDS] == [
        'road', 'traffic sign', 'car', 'person']
