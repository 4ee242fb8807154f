"""mmshallow.engine.config_checks: a segmentation config that cannot run stops before the model
and the datasets are built, with the config key, the bad value and what is allowed.

The configs are small in-test EncoderDecoders; the checks read configs and build only the
backbone on the meta device, so none of them needs mmseg."""
import pytest
from mmengine.config import Config

from mmshallow.engine.config_checks import (check_segmentation_config,
                                            check_segmentation_data_folders,
                                            check_segmentation_input_sizes)

BACKBONES = {
    'ParNet': (dict(type='mmshallow.ParNet', arch='s', out_indices=(0, 1, 2, 3)),
               [92, 192, 384, 1280]),
    'RepVGG': (dict(type='mmshallow.RepVGG', arch='A0', out_indices=(0, 1, 2, 3)),
               [48, 96, 192, 1280]),
    'VanillaNet': (dict(type='mmshallow.VanillaNet', arch='5', out_indices=(0, 1, 2)),
                   [1024, 2048, 4096]),
}


def seg_config(backbone='ParNet', crop=(64, 64), data_root='data/ade/ADEChallengeData2016',
               dataset='ADE20KDataset', prefixes=('images/training', 'annotations/training'),
               test_pad=dict(size_divisor=32), test_mode='whole', **preprocessor):
    backbone_cfg, channels = BACKBONES[backbone]
    n = len(channels)
    preprocessor = dict(type='SegDataPreProcessor', **(preprocessor or dict(size=crop)))
    if test_pad is not None:
        preprocessor['test_cfg'] = test_pad
    test_cfg = dict(mode=test_mode, crop_size=crop, stride=(32, 32))
    return Config(dict(
        default_scope='mmseg',
        model=dict(
            type='EncoderDecoder', data_preprocessor=preprocessor, backbone=backbone_cfg,
            decode_head=dict(type='UPerHead', in_channels=channels, in_index=list(range(n)),
                             channels=16, pool_scales=(1, 2), num_classes=3),
            auxiliary_head=dict(type='FCNHead', in_channels=channels[-2], in_index=n - 2,
                                channels=8, num_convs=1, num_classes=3),
            train_cfg=dict(), test_cfg=test_cfg),
        train_dataloader=dict(batch_size=2, dataset=dict(
            type=dataset, data_root=data_root,
            data_prefix=dict(img_path=prefixes[0], seg_map_path=prefixes[1]),
            pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                      dict(type='RandomCrop', crop_size=crop), dict(type='PackSegInputs')])),
        test_dataloader=dict(batch_size=1, dataset=dict(
            type=dataset, data_root=data_root,
            data_prefix=dict(img_path=prefixes[0], seg_map_path=prefixes[1]),
            pipeline=[dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]))))


def make_folders(root, *relative):
    for path in relative:
        (root / path).mkdir(parents=True, exist_ok=True)
    return str(root)


# --- input sizes ---

def test_a_parnet_crop_size_not_divisible_by_32_names_the_key_and_a_size_that_works():
    with pytest.raises(ValueError) as info:
        check_segmentation_input_sizes(seg_config(crop=(100, 100)))
    assert str(info.value) == ('model.data_preprocessor.size=(100, 100): ParNet needs input '
                               'sides divisible by 32, got 100x100; use e.g. 96x96')


def test_the_random_crop_is_checked_too_when_the_preprocessor_pads_by_a_divisor():
    cfg = seg_config(crop=(72, 64), size_divisor=32)
    with pytest.raises(ValueError, match=r'^train_dataloader\.dataset\.pipeline\[2\]\.crop_size'
                       r'=\(72, 64\): ParNet needs input sides divisible by 32, got 72x64'):
        check_segmentation_input_sizes(cfg)


def test_a_padding_divisor_that_is_not_a_multiple_of_the_backbones_is_refused():
    with pytest.raises(ValueError, match=r'model\.data_preprocessor\.size_divisor=16: ParNet '
                       'needs input sides divisible by 32, so the padding divisor must be a '
                       'multiple of 32'):
        check_segmentation_input_sizes(seg_config(size_divisor=16), splits=('train', ))
    with pytest.raises(ValueError, match=r'model\.data_preprocessor\.test_cfg\.size_divisor=8'):
        check_segmentation_input_sizes(seg_config(test_pad=dict(size_divisor=8)))


def test_unpadded_whole_image_testing_of_parnet_says_how_to_pad():
    cfg = seg_config(test_pad=None)
    check_segmentation_input_sizes(cfg, splits=('train', ))  # training pads to size
    with pytest.raises(ValueError) as info:
        check_segmentation_input_sizes(cfg, splits=('test', ))
    assert str(info.value) == (
        "test_dataloader: ParNet needs input sides divisible by 32, but test images reach it "
        "unpadded (model.test_cfg.mode='whole', no model.data_preprocessor.test_cfg): set "
        'model.data_preprocessor.test_cfg=dict(size_divisor=32)')


def test_slide_testing_checks_its_crop_size_and_a_good_one_passes():
    check_segmentation_input_sizes(seg_config(test_pad=None, test_mode='slide'))
    cfg = seg_config(test_pad=None, test_mode='slide')
    cfg.model.test_cfg.crop_size = (48, 48)
    with pytest.raises(ValueError, match=r'model\.test_cfg\.crop_size=\(48, 48\): ParNet needs'):
        check_segmentation_input_sizes(cfg, splits=('test', ))


def test_an_input_below_vanillanets_total_stride_is_refused_with_the_stride():
    check_segmentation_input_sizes(seg_config('VanillaNet', crop=(64, 64)))
    with pytest.raises(ValueError) as info:
        check_segmentation_input_sizes(seg_config('VanillaNet', crop=(16, 16)))
    message = str(info.value)
    assert message.startswith('model.data_preprocessor.size=(16, 16): VanillaNet cannot take '
                              'a 16x16 input (')
    assert message.endswith('inputs below its total stride 32 leave no feature map: use at '
                            'least 32x32')


def test_repvgg_takes_any_size_so_odd_crops_pass():
    check_segmentation_input_sizes(seg_config('RepVGG', crop=(100, 75), test_pad=None))


def test_configs_that_are_not_segmentors_are_not_checked():
    check_segmentation_config(Config(dict(model=dict(
        type='ImageClassifier', backbone=dict(type='mmshallow.ParNet', arch='s')),
        train_dataloader=dict(dataset=dict(type='CustomDataset', data_root='nowhere')))))


# --- data folders ---

def test_a_missing_ade20k_image_folder_names_the_key_the_folder_and_the_layout(tmp_path):
    root = make_folders(tmp_path / 'ADEChallengeData2016', 'annotations/training')
    with pytest.raises(FileNotFoundError) as info:
        check_segmentation_data_folders(seg_config(data_root=root))
    assert str(info.value) == (
        f"train_dataloader.dataset.data_prefix.img_path: folder '{root}/images/training' does "
        f"not exist (data_root='{root}', img_path='images/training'). ADE20KDataset expects "
        'data_root = the unpacked ADEChallengeData2016/ folder, holding images/training and '
        'images/validation (.jpg) and annotations/training and annotations/validation (.png '
        'label maps).')


def test_a_missing_cityscapes_label_folder_names_gtfine(tmp_path):
    root = make_folders(tmp_path / 'cityscapes', 'leftImg8bit/train')
    cfg = seg_config(data_root=root, dataset='CityscapesDataset',
                     prefixes=('leftImg8bit/train', 'gtFine/train'))
    with pytest.raises(FileNotFoundError, match=r"data_prefix\.seg_map_path: folder '.*/gtFine/"
                       r"train' does not exist .* CityscapesDataset expects data_root = the "
                       r'cityscapes/ folder, holding leftImg8bit/train'):
        check_segmentation_data_folders(cfg)


def test_a_missing_data_root_of_a_custom_dataset_shows_mmsegs_custom_layout(tmp_path):
    cfg = seg_config(data_root=str(tmp_path / 'mine'), dataset='BaseSegDataset',
                     prefixes=('img_dir/train', 'ann_dir/train'))
    with pytest.raises(FileNotFoundError) as info:
        check_segmentation_data_folders(cfg)
    assert str(info.value).startswith(
        f"train_dataloader.dataset.data_root: folder '{tmp_path}/mine' does not exist (cwd ")
    assert str(info.value).endswith(
        'BaseSegDataset expects data_root holding img_dir/train and img_dir/val (images) and '
        'ann_dir/train and ann_dir/val (label maps with the same file names), with '
        "data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train').")


def test_only_the_splits_asked_for_are_checked_and_wrapped_datasets_too(tmp_path):
    root = make_folders(tmp_path / 'ade', 'images/training', 'annotations/training')
    cfg = seg_config(data_root=root)
    cfg.test_dataloader.dataset.data_prefix.img_path = 'images/validation'
    check_segmentation_data_folders(cfg, splits=('train', 'val'))  # no val_dataloader here
    with pytest.raises(FileNotFoundError, match=r'^test_dataloader\.dataset\.data_prefix\.'
                       r"img_path: folder '.*/images/validation'"):
        check_segmentation_data_folders(cfg, splits=('test', ))
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=2,
                                        dataset=cfg.test_dataloader.dataset)
    with pytest.raises(FileNotFoundError, match=r'^train_dataloader\.dataset\.dataset\.'
                       r'data_prefix\.img_path'):
        check_segmentation_data_folders(cfg, splits=('train', ))


def test_detection_and_classification_datasets_are_left_to_their_codebases(tmp_path):
    check_segmentation_data_folders(Config(dict(default_scope='mmdet', train_dataloader=dict(
        dataset=dict(type='CocoDataset', data_root=str(tmp_path / 'no'),
                     data_prefix=dict(img='train2017/')))), ))
    check_segmentation_data_folders(Config(dict(default_scope='mmpretrain', train_dataloader=dict(
        dataset=dict(type='CustomDataset', data_root=str(tmp_path / 'no'),
                     data_prefix=dict(img_path='train')))), ))


# --- wired into tools/train.py and tools/test.py ---

def write_config(path, **kwargs):
    cfg = seg_config(**kwargs)
    cfg.custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)
    cfg.dump(str(path))
    return str(path)


def test_train_and_test_tools_stop_before_building_anything(load_tool, tmp_path, monkeypatch):
    import mmengine.runner

    def no_runner(*args, **kwargs):
        raise AssertionError('the runner was built before the config check')

    monkeypatch.setattr(mmengine.runner.Runner, 'from_cfg', no_runner)
    config = write_config(tmp_path / 'seg.py', data_root=str(tmp_path / 'none'))
    work = ['--work-dir', str(tmp_path / 'work')]
    with pytest.raises(FileNotFoundError, match=r'^train_dataloader\.dataset\.data_root: folder'):
        load_tool('train').main([config, *work])
    checkpoint = tmp_path / 'model.pth'
    checkpoint.write_bytes(b'')
    with pytest.raises(FileNotFoundError, match=r'^test_dataloader\.dataset\.data_root: folder'):
        load_tool('test').main([config, str(checkpoint), *work])
    config = write_config(tmp_path / 'seg100.py', crop=(100, 100))
    with pytest.raises(ValueError, match=r'^model\.data_preprocessor\.size=\(100, 100\)'):
        load_tool('train').main([config, *work])
