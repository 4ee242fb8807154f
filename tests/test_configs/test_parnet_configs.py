import copy
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmshallow
from mmshallow.testing import randomize_bn_statistics, relative_error

pytest.importorskip('mmdet')
pytestmark = pytest.mark.needs_mmcv_ops
from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

YOLOX = ['parnet/yolox_parnet-m_8xb8-300e_coco', 'parnet/yolox_parnet-l_8xb8-300e_coco',
         'parnet/yolox_parnet-xl_8xb8-300e_coco', 'parnet/yolox_parnet-m_deploy_coco',
         'parnet_yolo_coco']
FASTER_RCNN = ['parnet/faster-rcnn_parnet-m_parnet-neck_1x_coco', 'parnet_faster-rcnn_coco']


def load(repo_root, name):
    cfg = Config.fromfile(str(repo_root / 'configs' / f'{name}.py'))
    init_default_scope(cfg.default_scope)
    return cfg


@pytest.mark.parametrize('name', YOLOX)
def test_yolox_configs_build_and_run_a_forward(repo_root, name):
    cfg = load(repo_root, name)
    assert cfg.model.type == 'YOLOX' and cfg.train_cfg.max_epochs == 300
    assert [h['type'] for h in cfg.custom_hooks][-2:] == ['EMAHook', 'mmshallow.ReparamHook']
    model = MODELS.build(cfg.model).eval()
    assert model.backbone.deploy == name.endswith('deploy_coco')
    with torch.no_grad():
        cls_scores, _, _ = model(torch.rand(1, 3, 128, 128), mode='tensor')
    assert [tuple(s.shape) for s in cls_scores] == [(1, 80, 16, 16), (1, 80, 8, 8),
                                                    (1, 80, 4, 4)]


def fake_batch(size=128):
    sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                         pad_shape=(size, size), scale_factor=(1.0, 1.0),
                                         batch_input_shape=(size, size)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[10., 20., 70., 90.]]),
                                       labels=torch.tensor([1]))
    return torch.rand(1, 3, size, size), [sample]


@pytest.mark.parametrize('name', FASTER_RCNN)
def test_faster_rcnn_config_trains_predicts_and_fuses(repo_root, name):
    cfg = load(repo_root, name)
    model = MODELS.build(cfg.model)
    inputs, samples = fake_batch()
    losses = model(inputs, copy.deepcopy(samples), mode='loss')
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox'} <= set(losses)
    # Whole detectors are compared in float64: the fusion is exact (the backbone and the necks
    # are held to 1e-5 in fp32 on their own), while fp32 rounding through ~25 random layers
    # reaches about 1e-5 by itself.
    model = randomize_bn_statistics(model).eval().double()
    with torch.no_grad():
        feats = model.extract_feat(inputs.double())
        assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]
        mmshallow.reparameterize(model)
        assert relative_error(model.extract_feat(inputs.double()), feats) <= 1e-9
        result = model.float()(inputs, samples, mode='predict')[0]
    assert result.pred_instances.bboxes.shape[-1] == 4


def test_yolox_deploy_config_loads_a_reparameterized_checkpoint(repo_root):
    cfg = load(repo_root, 'parnet_yolo_coco')
    model = randomize_bn_statistics(MODELS.build(cfg.model)).eval().double()
    x = torch.rand(1, 3, 96, 96, dtype=torch.float64)
    with torch.no_grad():
        expected = model(x, mode='tensor')
        mmshallow.reparameterize(model)
        deployed = MODELS.build(load(repo_root, 'parnet/yolox_parnet-m_deploy_coco').model)
        deployed.eval().double().load_state_dict(model.state_dict(), strict=True)
        assert relative_error(deployed(x, mode='tensor'), expected) <= 1e-9


@pytest.mark.slow
def test_mim_train_mmdet_parnet_yolo_coco_on_tiny_coco(repo_root, tmp_path, tiny_coco):
    """`mim train mmdet configs/parnet_yolo_coco.py` with COCO in data/coco (here: 4 generated
    images), 2 iterations and a validation pass through mmdet's own tools/train.py."""
    mim = shutil.which('mim', path=osp.dirname(sys.executable))
    classes = '(' + ','.join(tiny_coco) + ')'
    small = ['batch_size=2', 'num_workers=0', 'persistent_workers=False']
    options = [
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'model.bbox_head.num_classes=3',
        f'train_dataloader.dataset.dataset.metainfo.classes={classes}',
        f'val_dataloader.dataset.metainfo.classes={classes}',
        f'test_dataloader.dataset.metainfo.classes={classes}',
        *[f'{split}_dataloader.{o}' for split in ('train', 'val', 'test') for o in small],
    ]
    run = subprocess.run(
        [mim, 'train', 'mmdet', str(repo_root / 'configs' / 'parnet_yolo_coco.py'),
         '--work-dir', 'wd', '--cfg-options', *options],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-5000:]
    assert 'Epoch(train) [1][2/2]' in log
    assert 'coco/bbox_mAP' in log  # the validation pass
    assert (tmp_path / 'wd' / 'epoch_1_deploy.pth').exists()


@pytest.mark.slow
def test_faster_rcnn_config_trains_two_iterations_and_validates(
        repo_root, tmp_path, tiny_coco, shrink_detection_config):
    from mmengine.runner import Runner
    cfg = shrink_detection_config(load(repo_root, 'parnet_faster-rcnn_coco'), tiny_coco,
                                  tmp_path / 'wd', size=160, checkpoints=True)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert any(k.endswith('bbox_mAP') for k in runner.message_hub.log_scalars)
    assert (tmp_path / 'wd' / 'epoch_1_deploy.pth').exists()
