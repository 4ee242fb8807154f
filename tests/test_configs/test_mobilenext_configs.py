import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

CLASSIFIER = 'mobilenext-1.0_8xb32_in1k'
DETECTORS = ['yolox_mobilenext-1.0_8xb8-300e_coco', 'faster-rcnn_mobilenext-1.0_fpn_1x_coco']


def load(repo_root, name):
    cfg = Config.fromfile(str(repo_root / 'configs' / 'mobilenext' / f'{name}.py'))
    init_default_scope(cfg.default_scope)
    return cfg


def test_classification_config_is_the_authors_model_and_schedule(repo_root):
    pytest.importorskip('mmpretrain')
    from mmpretrain.registry import MODELS
    cfg = load(repo_root, CLASSIFIER)
    assert cfg.train_cfg.max_epochs == 210 and cfg.optim_wrapper.optimizer.lr == 0.1
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == 3_535_416  # the authors' count


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
