import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

CLASSIFIER = 'parameternet-600m_8xb128_in1k'
DETECTORS = ['yolox_parameternet-600m_8xb8-300e_coco',
             'faster-rcnn_parameternet-600m_fpn_1x_coco']


def load(repo_root, name):
    cfg = Config.fromfile(str(repo_root / 'configs' / 'parameternet' / f'{name}.py'))
    init_default_scope(cfg.default_scope)
    return cfg


def test_classification_config_is_the_released_600m_and_its_schedule(repo_root):
    """(Build, forward and fused weights: tests/test_configs/test_catalogue_configs.py.)"""
    pytest.importorskip('mmpretrain')
    from mmpretrain.registry import MODELS
    cfg = load(repo_root, CLASSIFIER)
    assert cfg.train_cfg.max_epochs == 300
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == 34_504_504  # the released 600m


@pytest.mark.needs_mmcv_ops
@pytest.mark.parametrize('name', DETECTORS)
def test_detection_configs_build_and_run_a_forward(repo_root, name):
    pytest.importorskip('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(load(repo_root, name).model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 128, 128))
    assert [f.shape[-1] for f in feats] == ([16, 8, 4] if 'yolox' in name else [32, 16, 8, 4, 2])


@pytest.mark.slow
def test_classification_config_trains_two_iterations(repo_root, tmp_path, make_tiny_imagenet,
                                                     shrink_classification_config):
    pytest.importorskip('mmpretrain')
    cfg = shrink_classification_config(load(repo_root, CLASSIFIER),
                                       make_tiny_imagenet(tmp_path / 'imagenet'),
                                       tmp_path / 'wd')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2


@pytest.mark.needs_mmcv_ops
@pytest.mark.slow
@pytest.mark.parametrize('name', DETECTORS)
def test_detection_configs_train_two_iterations(repo_root, tmp_path, tiny_coco,
                                                shrink_detection_config, name):
    pytest.importorskip('mmdet')
    cfg = shrink_detection_config(load(repo_root, name), tiny_coco, tmp_path / 'wd')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
