"""tools/train.py: an interrupted training resumes from its last checkpoint, losing nothing."""
import os
import re
import signal
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmshallow.testing import relative_error

ITERS_PER_EPOCH = 8  # 16 images, batch 2
MAX_EPOCHS = 4


def resume_config(repo_root, data_root, work_dir):
    """The VanillaNet-5 recipe (Lamb, warm-up + cosine LR, EMA, deep training, ReparamHook) on
    a small VanillaNet and 32x32 images, made deterministic: the data order is seeded per
    epoch by the sampler; random crops, flips, RandAugment, erasing, mixup and dropout are
    off because mmengine checkpoints do not carry the Python/numpy/torch RNG states."""
    cfg = Config.fromfile(str(repo_root / 'configs/vanillanet/vanillanet-5_8xb128_in1k.py'))
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)
    cfg.model.backbone.arch = dict(dims=[32, 64, 96, 128], strides=[2, 2, 2])
    cfg.model.neck.update(in_channels=128, dropout=0.0)
    cfg.model.train_cfg = None  # no mixup, so hard labels: softmax cross-entropy
    cfg.model.head.loss = dict(type='CrossEntropyLoss', loss_weight=1.0)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=32),
                dict(type='PackInputs')]
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=str(data_root), pipeline=pipeline)
    cfg.train_cfg.update(max_epochs=MAX_EPOCHS, val_interval=MAX_EPOCHS)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
             convert_to_iter_based=True),
        dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=1, end=MAX_EPOCHS,
             T_max=MAX_EPOCHS - 1, convert_to_iter_based=True)]
    cfg.custom_hooks[0].decay_epochs = MAX_EPOCHS  # lambda 0, 1/4, 2/4, 3/4
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=-1)
    assert [h['type'] for h in cfg.custom_hooks][:2] == ['mmshallow.DeepTrainingHook', 'EMAHook']
    return cfg


def train(repo_root, cfg_path, *extra, kill_at=None):
    """Run tools/train.py; with ``kill_at`` (a log pattern) SIGKILL it when that line shows."""
    cmd = [sys.executable, str(repo_root / 'tools' / 'train.py'), str(cfg_path), *extra]
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if kill_at and re.search(kill_at, line):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=600)
    log = ''.join(lines)
    if kill_at:
        assert proc.returncode == -signal.SIGKILL, log[-4000:]
    else:
        assert proc.returncode == 0, log[-4000:]
    return log


def train_lines(log):
    return re.findall(r'Epoch\(train\)\s+\[(\d+)\]\[\s*(\d+)/\d+\]', log)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(
        repo_root, tmp_path, make_tiny_imagenet):
    data = make_tiny_imagenet(tmp_path / 'imagenet', per_split=dict(train=16, val=2))
    for name in ('straight', 'killed'):
        resume_config(repo_root, data, tmp_path / name).dump(str(tmp_path / f'{name}.py'))

    train(repo_root, tmp_path / 'straight.py')
    killed_log = train(repo_root, tmp_path / 'killed.py',
                       kill_at=r'Epoch\(train\)\s+\[3\]\[\s*4/8\]')
    work = tmp_path / 'killed'
    assert (work / 'epoch_2.pth').exists() and not (work / 'epoch_3.pth').exists()
    assert ('3', '4') in train_lines(killed_log)

    resumed_log = train(repo_root, tmp_path / 'killed.py', '--resume')
    assert 'resumed epoch: 2, iter: 16' in resumed_log
    # epoch 3 is trained again from its first iteration: nothing after the checkpoint lost
    done = train_lines(resumed_log)
    assert done[0] == ('3', '1') and done[-1] == ('4', '8') and len(done) == 16

    straight = torch.load(tmp_path / 'straight' / 'epoch_4.pth', map_location='cpu')
    resumed = torch.load(work / 'epoch_4.pth', map_location='cpu')
    assert resumed['meta']['iter'] == straight['meta']['iter'] == MAX_EPOCHS * ITERS_PER_EPOCH
    assert resumed['meta']['epoch'] == MAX_EPOCHS
    # Tolerance: the same ops on the same data in the same order; only the order of
    # multi-threaded float reductions may differ between processes, which moves float32
    # results by a few ulps per step; 1e-5 relative after 32 steps leaves room for that and
    # nothing else (a skipped or repeated iteration changes the weights by ~1e-2).
    tol = 1e-5
    for key in ('state_dict', 'ema_state_dict'):
        a, b = straight[key], resumed[key]
        assert a.keys() == b.keys()
        assert max(relative_error(b[k].float(), a[k].float()) for k in a
                   if a[k].is_floating_point()) <= tol, key
    lambdas = {k: float(v) for k, v in resumed['state_dict'].items() if k.endswith('act_lambda')}
    assert lambdas and set(lambdas.values()) == {0.75}  # epoch 3 of a 4-epoch decay
    assert [g['lr'] for g in resumed['optimizer']['param_groups']] == \
        [g['lr'] for g in straight['optimizer']['param_groups']]
    a, b = straight['optimizer']['state'], resumed['optimizer']['state']
    assert a.keys() == b.keys()
    assert max(relative_error(b[i][k], a[i][k]) for i in a for k in a[i]
               if torch.is_tensor(a[i][k]) and a[i][k].is_floating_point()) <= tol
    assert resumed['param_schedulers'] == straight['param_schedulers']
