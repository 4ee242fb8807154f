import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmshallow.testing import relative_error

mmpretrain = pytest.importorskip('mmpretrain')
from mmpretrain.registry import MODELS  # noqa: E402

CONFIGS = ['repvgg-a0_8xb32_in1k', 'repvgg-a0_deploy_in1k', 'repvgg-b1_8xb32_in1k',
           'repvgg-b1_deploy_in1k']


def config_path(repo_root, name):
    return str(repo_root / 'configs' / 'repvgg' / f'{name}.py')


@pytest.mark.parametrize('name', CONFIGS)
def test_config_follows_the_papers_schedule(repo_root, name):
    """(Build, forward and fused weights: tests/test_configs/test_catalogue_configs.py.)"""
    cfg = Config.fromfile(config_path(repo_root, name))
    assert cfg.train_cfg.max_epochs == 120 and cfg.param_scheduler.T_max == 120
    assert cfg.model.backbone.get('deploy', False) == name.endswith('deploy_in1k')


@pytest.mark.parametrize('name', ['repvgg-a0_8xb32_in1k', 'repvgg-b1_8xb32_in1k'])
def test_no_weight_decay_on_biases_and_branch_bns(repo_root, name):
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import OPTIM_WRAPPERS  # noqa: F401  (registers the builders)
    cfg = Config.fromfile(config_path(repo_root, name))
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {id(p): g['weight_decay'] for g in optim.optimizer.param_groups for p in g['params']}
    assert len(decay) == len(list(model.parameters()))
    bn_params = [(f'{m_name}.{p_name}', p) for m_name, m in model.named_modules()
                 if isinstance(m, nn.BatchNorm2d) for p_name, p in m.named_parameters()]
    conv_weights = [(f'{m_name}.weight', m.weight) for m_name, m in model.named_modules()
                    if isinstance(m, nn.Conv2d)]
    assert any('.branch_norm.' in n for n, _ in bn_params)  # the identity-branch BNs
    assert {n: decay[id(p)] for n, p in bn_params} == {n: 0 for n, _ in bn_params}
    assert {n: decay[id(p)] for n, p in conv_weights} == {n: 1e-4 for n, _ in conv_weights}
    assert decay[id(model.head.fc.weight)] == 1e-4 and decay[id(model.head.fc.bias)] == 0


@pytest.mark.slow
@pytest.mark.parametrize('arch', ['a0', 'b1'])
def test_config_trains_saves_deploy_checkpoint_and_deploy_config_tests_it(
        repo_root, tmp_path, load_tool, make_tiny_imagenet, shrink_classification_config,
        arch):
    data_root = make_tiny_imagenet(tmp_path / 'imagenet')
    cfg = shrink_classification_config(
        Config.fromfile(config_path(repo_root, f'repvgg-{arch}_8xb32_in1k')), data_root,
        tmp_path / 'train', checkpoints=True)
    Runner.from_cfg(cfg).train()
    train_ckpt = tmp_path / 'train' / 'epoch_1.pth'
    deploy_ckpt = tmp_path / 'train' / 'epoch_1_deploy.pth'
    assert train_ckpt.exists() and deploy_ckpt.exists()

    # tools/reparameterize.py gives the same deploy weights as the hook
    out = tmp_path / 'converted.pth'
    tool = load_tool('reparameterize')
    assert tool.main([config_path(repo_root, f'repvgg-{arch}_8xb32_in1k'), str(train_ckpt),
                      str(out), '--shape', '64', '64']) == 0
    ours, hooks = torch.load(out)['state_dict'], torch.load(deploy_ckpt)['state_dict']
    assert ours.keys() == hooks.keys()
    assert max(relative_error(ours[k], hooks[k]) for k in ours if ours[k].is_floating_point()) \
        <= 1e-6

    # the deploy config evaluates the deploy checkpoint
    cfg = shrink_classification_config(
        Config.fromfile(config_path(repo_root, f'repvgg-{arch}_deploy_in1k')), data_root,
        tmp_path / 'test')
    cfg.load_from = str(deploy_ckpt)
    metrics = Runner.from_cfg(cfg).test()
    assert 'accuracy/top1' in metrics

    # and refuses the train-time checkpoint, naming the tool
    cfg.load_from = str(train_ckpt)
    cfg.work_dir = str(tmp_path / 'test2')
    with pytest.raises(RuntimeError, match='tools/reparameterize.py'):
        Runner.from_cfg(cfg).test()


@pytest.mark.slow
def test_mim_train_and_mim_test(repo_root, tmp_path, make_tiny_imagenet):
    """The user's path: `mim train mmpretrain CONFIG`, then `mim test` of the deploy config."""
    import shutil
    import subprocess
    import sys
    make_tiny_imagenet(tmp_path / 'data' / 'imagenet')  # the configs' data_root, from the cwd
    mim = shutil.which('mim', path=osp.dirname(sys.executable))
    assert mim, 'openmim is installed by tools/install.sh'
    small = ['num_workers=0', 'persistent_workers=False', 'batch_size=2']
    options = [f'{split}_dataloader.{o}' for split in ('train', 'val', 'test') for o in small]
    train = subprocess.run(
        [mim, 'train', 'mmpretrain', config_path(repo_root, 'repvgg-a0_8xb32_in1k'),
         '--work-dir', 'wd', '--cfg-options', 'train_cfg.max_epochs=1', *options],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    assert (tmp_path / 'wd' / 'epoch_1_deploy.pth').exists()
    test = subprocess.run(
        [mim, 'test', 'mmpretrain', config_path(repo_root, 'repvgg-a0_deploy_in1k'),
         '--checkpoint', 'wd/epoch_1_deploy.pth', '--work-dir', 'wd_test', '--cfg-options',
         *options], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    assert 'accuracy/top1' in test.stdout + test.stderr
