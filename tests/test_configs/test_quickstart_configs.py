"""The classification quickstart (scikit-learn's digits, every family): configs build and fuse
exactly (fast), and each trains to >= 95 % val top-1 with the fused model within 0.3 points and
INT8 within 0.5 points (slow: ~1-3 minutes each on 2 cores)."""
import importlib.util
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

pytest.importorskip('mmpretrain')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_spec = importlib.util.spec_from_file_location('quickstart', osp.join(REPO, 'tools',
                                                                      'quickstart.py'))
quickstart = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(quickstart)

CONFIGS = quickstart.classification_configs()
FAMILIES = ('mobilenext', 'parameternet', 'parnet', 'qarepvgg', 'repvgg', 'vanillanet')


def test_one_config_per_family():
    assert sorted(osp.basename(c).split('-')[0] for c in CONFIGS) == list(FAMILIES)


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_builds_and_the_fused_model_matches(config):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(config)
    assert cfg.train_dataloader.dataset.type == 'CustomDataset'
    assert cfg.train_dataloader.dataset.data_root == 'data/digits/'
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert {'mmshallow.ClassCountCheckHook', 'mmshallow.ReparamHook'} <= set(hooks)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__module__.startswith('mmshallow.')
    randomize_bn_statistics(model)
    mmshallow.set_act_lambda(model, 1.0)   # VanillaNet: deep training ended
    model.eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        before = model(x, mode='tensor')
        mmshallow.reparameterize(model)
        after = model(x, mode='tensor')
    assert before.shape == (2, 10)
    assert relative_error(after, before) <= 1e-5


@pytest.mark.slow
@pytest.mark.parametrize('config', [
    # RepVGG-A0 trains in CI; every family's run reproduces README's table (-m reproduce)
    pytest.param(c, id=osp.basename(c),
                 marks=() if osp.basename(c).startswith('repvgg') else pytest.mark.reproduce)
    for c in CONFIGS])
def test_quickstart_reaches_95_and_the_fused_model_and_int8_match(config, digits_root,
                                                                  tmp_path):
    pytest.importorskip('mmdeploy')
    pytest.importorskip('ml_dtypes')
    results = quickstart.run(str(tmp_path / 'work'), str(digits_root), config,
                             task='classification', int8=True)
    print(results)
    assert results['top1_train_time'] >= 95.0
    assert abs(results['top1_fused'] - results['top1_train_time']) <= 0.3
    assert osp.exists(results['deploy_checkpoint'])
    int8 = results['int8']
    # the fp32 ONNX model is the fused model; INT8 within half a point of it (issue #14's goal)
    assert abs(int8['top1_fp32_onnx'] - results['top1_fused']) <= 0.3
    assert int8['top1_fp32_onnx'] - int8['top1_int8'] <= 0.5
    assert int8['speedup'] > 1 and osp.exists(int8['report'])


@pytest.mark.slow
def test_mim_train_mmpretrain_quickstart_config(digits_root, tmp_path):
    """`mim train mmpretrain configs/quickstart/<config>.py` from a directory holding
    data/digits (the config's data_root), shortened to one epoch."""
    mim = shutil.which('mim', path=osp.dirname(sys.executable))
    assert mim, 'openmim is installed by tools/install.sh'
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'digits').symlink_to(digits_root)
    config = osp.join(REPO, 'configs', 'quickstart', 'repvgg-a0_1xb32-12e_digits.py')
    small = ['num_workers=0', 'persistent_workers=False']
    options = [f'{split}_dataloader.{o}' for split in ('train', 'val', 'test') for o in small]
    train = subprocess.run(
        [mim, 'train', 'mmpretrain', config, '--work-dir', 'wd', '--cfg-options',
         'train_cfg.max_epochs=1', *options],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    log = train.stdout + train.stderr
    assert train.returncode == 0, log[-3000:]
    assert 'Epoch(train) [1][40/45]' in log and 'accuracy/top1' in log
    assert (tmp_path / 'wd' / 'epoch_1_deploy.pth').exists()
