import copy

import pytest
import torch
import torch.nn.functional as F
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
def test_classification_configs_follow_the_official_schedule(repo_root, name):
    """(Build, forward and fused weights: tests/test_configs/test_catalogue_configs.py.)"""
    cfg = load(repo_root, name)
    assert cfg.train_cfg.max_epochs == 300 and cfg.optim_wrapper.optimizer.type == 'Lamb'
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert hooks[0] == 'mmshallow.DeepTrainingHook' and cfg.custom_hooks[0].decay_epochs == 100
    assert cfg.model.backbone.get('deploy', False) == name.endswith('deploy_in1k')


@pytest.mark.parametrize('name,mixup,weight_decay', [
    ('vanillanet-5_8xb128_in1k', 0.1, 0.35),  # the README's VanillaNet-5 command
    ('vanillanet-13_8xb128_in1k', 0.4, 0.25),  # VanillaNet-10's, the deepest released
    ('vanillanet-13-1.5x_8xb128_in1k', 0.4, 0.25),
])
def test_classification_configs_follow_the_official_recipe(repo_root, name, mixup, weight_decay):
    """The README command plus the main.py defaults it leaves alone: cutmix 1.0 with switch
    prob 0.5 beside mixup, label smoothing 0.1 (on the BCE targets), 5 warm-up epochs."""
    pytest.importorskip('mmpretrain')
    from mmpretrain.models import ClsDataPreprocessor
    from mmpretrain.registry import MODELS
    cfg = load(repo_root, name)
    assert cfg.optim_wrapper.optimizer == dict(type='Lamb', lr=3.5e-3,
                                               weight_decay=weight_decay)
    assert cfg.train_dataloader.batch_size * 8 == 1024 and cfg.model.neck.dropout == 0.05
    assert cfg.model.train_cfg == dict(
        augments=[dict(type='Mixup', alpha=mixup), dict(type='CutMix', alpha=1.0)],
        probs=[0.5, 0.5])
    augment = ClsDataPreprocessor(num_classes=1000,
                                  batch_augments=copy.deepcopy(cfg.model.train_cfg))
    assert [type(a).__name__ for a in augment.batch_augments.augments] == ['Mixup', 'CutMix',
                                                                           'NoneType']
    assert augment.batch_augments.probs == [0.5, 0.5, 0.0]  # one of the two on every batch
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 5)
    assert (cosine.type, cosine.begin, cosine.end, cosine.T_max, cosine.eta_min) == (
        'CosineAnnealingLR', 5, 300, 295, 1e-6)
    assert [h.momentum for h in cfg.custom_hooks if h.type == 'EMAHook'] == [4e-5]

    # BCE against targets smoothed as timm's Mixup does: (1 - 0.1) * y + 0.1 / num_classes
    loss = MODELS.build(cfg.model.head.loss)
    torch.manual_seed(0)
    logits, labels = torch.randn(4, 1000), torch.tensor([3, 7, 7, 999])
    soft = 0.7 * F.one_hot(labels, 1000) + 0.3 * F.one_hot(labels.flip(0), 1000)  # mixed
    for target in (labels, soft):
        dense = F.one_hot(target, 1000).float() if target.dim() == 1 else target
        expected = F.binary_cross_entropy_with_logits(logits, 0.9 * dense + 0.1 / 1000)
        assert torch.allclose(loss(logits, target), expected)


@pytest.mark.needs_mmcv_ops
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


@pytest.mark.needs_mmcv_ops
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


@pytest.mark.needs_mmcv_ops
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
