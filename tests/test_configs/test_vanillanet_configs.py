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
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 128, 128))
    assert [f.shape[-1] for f in feats] == ([16, 8, 4] if 'yolox' in name else [32, 16, 8, 4, 2])


@pytest.mark.slow
@pytest.mark.parametrize('name', [n for n in CLASSIFIERS if 'deploy' not in n])
def test_classification_config_trains_two_iterations_with_lambda_from_the_hook(
        repo_root, tmp_path, make_tiny_imagenet, name):
    pytest.importorskip('mmpretrain')
    data_root = make_tiny_imagenet(tmp_path / 'imagenet')
    cfg = load(repo_root, name)
    cfg.work_dir = str(tmp_path / 'wd')
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = str(data_root)
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks[0].decay_epochs = 4
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert lambdas(runner.model) == {0.0}  # epoch 0 of a 4-epoch decay
    ema = next(h for h in runner.hooks if type(h).__name__ == 'EMAHook').ema_model.module
    assert lambdas(ema) == {0.0}
    assert runner.message_hub.get_scalar('train/act_lambda').current() == 0.0


def tiny_coco(tmp_path, monkeypatch):
    """4 generated images of 3 classes in data/coco/, the configs' data_root, from the cwd."""
    from mmshallow.datasets import SHAPES_CLASSES, generate_shapes_coco
    generate_shapes_coco(tmp_path / 'data' / 'coco', num_train=4, num_val=2, image_size=96)
    monkeypatch.chdir(tmp_path)
    return SHAPES_CLASSES


@pytest.mark.slow
def test_faster_rcnn_vanillanet_trains_two_iterations_on_tiny_coco(repo_root, tmp_path,
                                                                   monkeypatch):
    pytest.importorskip('mmdet')
    classes = tiny_coco(tmp_path, monkeypatch)
    cfg = load(repo_root, 'faster-rcnn_vanillanet-13_fpn_1x_coco')
    cfg.work_dir = str(tmp_path / 'wd')
    cfg.model.roi_head.bbox_head.num_classes = len(classes)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.metainfo = dict(classes=classes)
        for transform in loader.dataset.pipeline:  # small data, small images
            if transform['type'] == 'Resize':
                transform['scale'] = (128, 128)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert lambdas(runner.model) == {0.0}


@pytest.mark.slow
def test_yolox_vanillanet_trains_two_iterations_on_tiny_coco(repo_root, tmp_path, monkeypatch):
    pytest.importorskip('mmdet')
    classes = tiny_coco(tmp_path, monkeypatch)
    cfg = load(repo_root, 'yolox_vanillanet-13_8xb8-300e_coco')
    cfg.work_dir = str(tmp_path / 'wd')
    cfg.model.bbox_head.num_classes = len(classes)
    cfg.train_dataloader.dataset.dataset.metainfo = dict(classes=classes)
    for split in ('val', 'test'):
        cfg[f'{split}_dataloader'].dataset.metainfo = dict(classes=classes)
    # small data, small images: every 640 of the YOLOX pipeline -> 128
    cfg.model.data_preprocessor.batch_augments[0].random_size_range = (128, 128)
    for pipeline in (cfg.train_dataloader.dataset.pipeline,
                     cfg.val_dataloader.dataset.pipeline):
        for transform in pipeline:
            for key in ('img_scale', 'scale'):
                if key in transform:
                    transform[key] = (128, 128)
            if transform['type'] == 'RandomAffine':
                transform['border'] = (-64, -64)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].update(batch_size=2, num_workers=0,
                                          persistent_workers=False)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.custom_hooks[0].decay_epochs = 2
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert lambdas(runner.model) == {0.0}
