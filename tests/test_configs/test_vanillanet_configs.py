import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

CLASSIFIERS = ['vanillanet-5_8xb128_in1k', 'vanillanet-5_deploy_in1k',
               'vanillanet-13_8xb128_in1k', 'vanillanet-13_deploy_in1k',
               'vanillanet-13-1.5x_8xb128_in1k', 'vanillanet-13-1.5x_deploy_in1k']
DETECTORS = ['yolox_vanillanet-13_8xb8-300e_coco', 'faster-rcnn_vanillanet-13_fpn_1x_coco']


def load(repo_root, name):
    cfg = Config.fromfile(str(repo_root / 'configs' / 'vanillanet' / f'{name}.py'))
    init_default_scope(cfg.default_scope)
    return cfg


def lambdas(model):
    return {float(b) for name, b in model.named_buffers() if name.endswith('act_lambda')}


@pytest.mark.parametrize('name', CLASSIFIERS)
def test_classification_configs_build_and_run_a_forward(repo_root, name):
    pytest.importorskip('mmpretrain')
    from mmpretrain.registry import MODELS
    cfg = load(repo_root, name)
    assert cfg.train_cfg.max_epochs == 300 and cfg.optim_wrapper.optimizer.type == 'Lamb'
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert hooks[0] == 'mmshallow.DeepTrainingHook' and cfg.custom_hooks[0].decay_epochs == 100
    model = MODELS.build(cfg.model).eval()
    assert model.backbone.deploy == name.endswith('deploy_in1k')
    with torch.no_grad():
        assert model(torch.rand(1, 3, 224, 224), mode='tensor').shape == (1, 1000)


@pytest.mark.parametrize('name', DETECTORS)
def test_detection_configs_build_and_run_a_forward(repo_root, name):
    pytest.importorskip('mmdet')
    from mmdet.registry import MODELS
    cfg = load(repo_root, name)
    assert [h['type'] for h in cfg.custom_hooks][0] == 'mmshallow.DeepTrainingHook'
    assert cfg.custom_hooks[-1]['type'] == 'mmshallow.ReparamHook'
    model = MODELS.build(cfg.model).eval()
    neck_params = sum(p.numel() for p in model.neck.parameters())
    # YOLOX: the 1024-4096-channel taps mapped down before YOLOXPAFPN (314M without).
    assert neck_params == (20_345_344 if 'yolox' in name else 4_327_424)
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 128, 128))
    assert [f.shape[-1] for f in feats] == ([16, 8, 4] if 'yolox' in name else [32, 16, 8, 4, 2])


@pytest.mark.slow
@pytest.mark.parametrize('name', [n for n in CLASSIFIERS if 'deploy' not in n])
def test_classification_config_trains_two_iterations_with_lambda_from_the_hook(
        repo_root, tmp_path, make_tiny_imagenet, shrink_classification_config, name):
    pytest.importorskip('mmpretrain')
    cfg = shrink_classification_config(load(repo_root, name),
                                       make_tiny_imagenet(tmp_path / 'imagenet'),
                                       tmp_path / 'wd')
    cfg.custom_hooks[0].decay_epochs = 4
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert lambdas(runner.model) == {0.0}  # epoch 0 of a 4-epoch decay
    ema = next(h for h in runner.hooks if type(h).__name__ == 'EMAHook').ema_model.module
    assert lambdas(ema) == {0.0}
    assert runner.message_hub.get_scalar('train/act_lambda').current() == 0.0


@pytest.mark.slow
def test_faster_rcnn_vanillanet_trains_two_iterations_on_tiny_coco(
        repo_root, tmp_path, tiny_coco, shrink_detection_config):
    pytest.importorskip('mmdet')
    cfg = shrink_detection_config(load(repo_root, 'faster-rcnn_vanillanet-13_fpn_1x_coco'),
                                  tiny_coco, tmp_path / 'wd')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert lambdas(runner.model) == {0.0}


@pytest.mark.slow
def test_yolox_vanillanet_trains_two_iterations_on_tiny_coco(
        repo_root, tmp_path, tiny_coco, shrink_detection_config):
    pytest.importorskip('mmdet')
    cfg = shrink_detection_config(load(repo_root, 'yolox_vanillanet-13_8xb8-300e_coco'),
                                  tiny_coco, tmp_path / 'wd')
    cfg.custom_hooks[0].decay_epochs = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert lambdas(runner.model) == {0.0}
