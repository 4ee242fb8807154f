"""ClassCountCheckHook on mmseg segmentors: the decode head and the auxiliary head (a head or a
list of heads) must have as many classes as the dataset's metainfo."""
import importlib.util
from types import SimpleNamespace

import pytest

from mmshallow.engine.hooks import ClassCountCheckHook
from mmshallow.engine.hooks.class_count_check_hook import declared_num_classes

pytestmark = [pytest.mark.skipif(importlib.util.find_spec('mmseg') is None,
                                 reason='mmsegmentation is not installed '
                                 '(tools/install.sh --mmseg)'),
              pytest.mark.needs_mmcv_ops]  # mmseg.models imports mmcv.ops


def aux_head(num_classes, in_index=2):
    return dict(type='FCNHead', in_channels=[48, 96, 192, 1280][in_index], in_index=in_index,
                channels=8, num_convs=1, num_classes=num_classes)


def segmentor(num_classes=3, auxiliary_head=None):
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    return MODELS.build(dict(
        type='EncoderDecoder', data_preprocessor=dict(type='SegDataPreProcessor', size=(64, 64)),
        backbone=dict(type='mmshallow.RepVGG', arch='A0', out_indices=(0, 1, 2, 3)),
        decode_head=dict(type='UPerHead', in_channels=[48, 96, 192, 1280],
                         in_index=[0, 1, 2, 3], channels=16, pool_scales=(1, 2),
                         num_classes=num_classes),
        auxiliary_head=auxiliary_head))


def runner_on(model, classes, split='train'):
    from mmseg.datasets import BaseSegDataset
    dataset = BaseSegDataset(data_root='data/mine', data_prefix=dict(
        img_path='img_dir/train', seg_map_path='ann_dir/train'), metainfo=dict(classes=classes),
        lazy_init=True)
    return SimpleNamespace(model=model, **{f'{split}_dataloader': SimpleNamespace(
        dataset=dataset)})


def test_declared_num_classes_lists_decode_and_auxiliary_heads():
    assert declared_num_classes(segmentor(3, aux_head(3))) == {
        'decode_head.num_classes': 3, 'auxiliary_head.num_classes': 3}
    model = segmentor(3, [aux_head(3, 2), aux_head(5, 1)])
    assert declared_num_classes(model) == {'decode_head.num_classes': 3,
                                           'auxiliary_head[0].num_classes': 3,
                                           'auxiliary_head[1].num_classes': 5}


def test_matching_class_counts_pass_for_every_split():
    model = segmentor(3, aux_head(3))
    hook = ClassCountCheckHook()
    hook.before_train(runner_on(model, ('sky', 'road', 'car')))
    hook.before_val(runner_on(model, ('sky', 'road', 'car'), 'val'))
    hook.before_test(runner_on(model, ('sky', 'road', 'car'), 'test'))


def test_a_decode_head_with_fewer_classes_than_the_dataset_names_both_and_the_fix():
    with pytest.raises(ValueError) as info:
        ClassCountCheckHook().before_train(
            runner_on(segmentor(3, aux_head(3)), ('sky', 'road', 'car', 'person')))
    assert str(info.value) == (
        'the train dataset (BaseSegDataset at data/mine/img_dir/train) has 4 classes (sky, road, '
        'car, person) but the model has decode_head.num_classes=3, '
        'auxiliary_head.num_classes=3: set num_classes=4 in the model config (decode_head, and '
        "auxiliary_head when it has one), or fix the dataset's metainfo classes")


def test_only_the_wrong_head_of_a_list_of_auxiliary_heads_is_named():
    model = segmentor(3, [aux_head(3, 2), aux_head(5, 1)])
    with pytest.raises(ValueError, match=r'but the model has auxiliary_head\[1\]\.num_classes=5: '
                       'set num_classes=3'):
        ClassCountCheckHook().before_test(runner_on(model, ('a', 'b', 'c'), 'test'))


def test_the_hook_builds_from_a_segmentation_config():
    from mmengine.registry import init_default_scope
    from mmseg.registry import HOOKS
    init_default_scope('mmseg')
    assert type(HOOKS.build(dict(type='mmshallow.ClassCountCheckHook'))) is ClassCountCheckHook
