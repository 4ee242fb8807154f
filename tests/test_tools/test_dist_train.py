"""tools/dist_train.sh / tools/train.py: 2 processes (torchrun, gloo) on the CPU."""
import json
import math
import os
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

PROBE = '''
import json, os
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RankProbeHook(Hook):
    """Each rank writes what it did: iterations, losses, a digest of its weights."""

    def __init__(self):
        self.iters, self.losses = [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.iters.append(runner.iter + 1)
        self.losses.append(float(outputs['loss']))

    def after_train(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        digest = [float(p.detach().double().sum()) for p in model.parameters()]
        rank = int(os.environ['RANK'])
        with open(os.path.join(runner.work_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(rank=rank, world=int(os.environ['WORLD_SIZE']), iters=self.iters,
                           losses=self.losses, digest=digest,
                           wrapper=type(runner.model).__name__), f)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(repo_root, cfg, tmp_path, cwd):
    (tmp_path / 'rank_probe.py').write_text(PROBE)
    cfg.custom_imports = dict(imports=['mmshallow', 'rank_probe'], allow_failed_imports=False)
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(type='RankProbeHook')]
    cfg.default_hooks.logger.interval = 1
    cfg.dump(str(tmp_path / 'cfg.py'))
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               PYTHONPATH=f'{tmp_path}:{os.environ.get("PYTHONPATH", "")}', OMP_NUM_THREADS='1')
    run = subprocess.run(['bash', str(repo_root / 'tools' / 'dist_train.sh'),
                          str(tmp_path / 'cfg.py'), '2'], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=900)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-6000:]
    ranks = [json.loads((tmp_path / 'wd' / f'rank{r}.json').read_text()) for r in (0, 1)]
    for rank in ranks:
        assert rank['world'] == 2 and rank['wrapper'] == 'CPUDistributedDataParallel'
        assert rank['iters'] == [1, 2], rank  # both ranks stepped, twice
        assert all(math.isfinite(loss) for loss in rank['losses'])
    # DDP averages the gradients: the replicas stay identical after every step
    assert ranks[0]['digest'] == ranks[1]['digest']
    return log


@pytest.mark.slow
def test_classification_config_trains_on_two_cpu_processes(
        repo_root, tmp_path, make_tiny_imagenet, shrink_classification_config):
    cfg = shrink_classification_config(
        Config.fromfile(str(repo_root / 'configs/repvgg/repvgg-a0_8xb32_in1k.py')),
        make_tiny_imagenet(tmp_path / 'imagenet', per_split=dict(train=8, val=4)),
        tmp_path / 'wd', checkpoints=True)
    cfg.train_cfg.max_epochs = 1  # 8 images / (2 ranks x batch 2) = 2 iterations
    dist_train(repo_root, cfg, tmp_path, cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / 'wd').glob('*.pth')) == \
        ['epoch_1.pth', 'epoch_1_deploy.pth']  # written once, by rank 0

    # the fused model from that checkpoint evaluates (deploy config, deploy checkpoint)
    test_cfg = shrink_classification_config(
        Config.fromfile(str(repo_root / 'configs/repvgg/repvgg-a0_deploy_in1k.py')),
        tmp_path / 'imagenet', tmp_path / 'test')
    test_cfg.load_from = str(tmp_path / 'wd' / 'epoch_1_deploy.pth')
    assert 'accuracy/top1' in Runner.from_cfg(test_cfg).test()


@pytest.mark.needs_mmcv_ops
@pytest.mark.slow
def test_detection_quickstart_config_trains_on_two_cpu_processes(
        repo_root, tmp_path, shrink_detection_config, monkeypatch):
    from mmshallow.data_generators import SHAPES_CLASSES, generate_shapes_coco
    generate_shapes_coco(str(tmp_path / 'data' / 'shapes'), num_train=4, num_val=2,
                         image_size=96)
    cfg = Config.fromfile(str(repo_root / 'configs/quickstart/yolox_parnet-s_1xb8-20e_shapes.py'))
    cfg = shrink_detection_config(cfg, SHAPES_CLASSES, tmp_path / 'wd', checkpoints=True)
    cfg.train_cfg.max_epochs = 2  # 4 images / (2 ranks x batch 2): 1 iteration an epoch
    log = dist_train(repo_root, cfg, tmp_path, cwd=tmp_path)
    assert 'coco/bbox_mAP' in log  # validation ran (across both ranks)
    ckpts = sorted(p.name for p in (tmp_path / 'wd').glob('*.pth'))
    assert ckpts == ['epoch_2.pth', 'epoch_2_deploy.pth']  # max_keep_ckpts=1, rank 0 only

    # the fused model from the last checkpoint evaluates: ReparamHook fuses before test
    monkeypatch.chdir(tmp_path)  # the config's data_root is relative
    init_default_scope('mmdet')
    cfg.load_from = str(tmp_path / 'wd' / 'epoch_2.pth')
    cfg.work_dir = str(tmp_path / 'test')
    cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] != 'RankProbeHook']
    cfg.custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert 'coco/bbox_mAP' in metrics
    assert runner.model.backbone.deploy


def test_slurm_train_sh_runs_train_py_under_srun(repo_root, tmp_path):
    """No cluster here: a stand-in srun records what the script asks for."""
    fake = tmp_path / 'bin' / 'srun'
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$@" > "$SRUN_LOG"\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f'{fake.parent}:{os.environ["PATH"]}', GPUS='16',
               SRUN_LOG=str(tmp_path / 'srun.txt'))
    subprocess.run(['bash', str(repo_root / 'tools' / 'slurm_train.sh'), 'gpu', 'job',
                    'cfg.py', 'wd', '--resume'], env=env, check=True)
    args = (tmp_path / 'srun.txt').read_text().split()
    assert args[:2] == ['-p', 'gpu'] and '--ntasks=16' in args and '--gres=gpu:8' in args
    assert args[-5:] == [str(repo_root / 'tools' / 'train.py'), 'cfg.py', '--work-dir=wd',
                         '--launcher=slurm', '--resume']


def test_cpu_ddp_wrapper_builds_from_the_registry_and_syncbn_models_fuse():
    """SyncBN configs build, and reparameterize fuses SyncBatchNorm branches exactly like BN
    (in eval mode SyncBatchNorm is a plain BatchNorm; no process group needed)."""
    from mmshallow import MODELS, reparameterize
    from mmshallow.testing import randomize_bn_statistics, relative_error
    cfg = dict(type='mmshallow.RepVGG', arch='A0', norm_cfg=dict(type='SyncBN'))
    model = randomize_bn_statistics(MODELS.build(cfg)).eval().double()
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        expected = model(x)
        assert relative_error(reparameterize(model)(x), expected) < 1e-10
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    from mmengine.registry import MODEL_WRAPPERS
    assert MODEL_WRAPPERS.get('CPUDistributedDataParallel').__module__ == \
        'mmshallow.engine.model_wrappers'


@pytest.mark.needs_mmcv_ops
def test_syncbn_detection_config_builds_and_fuses(repo_root):
    from mmdet.registry import MODELS as DET_MODELS

    from mmshallow import reparameterize
    cfg = Config.fromfile(str(repo_root / 'configs/parnet_yolo_coco.py'))
    cfg.model.backbone.norm_cfg = dict(type='SyncBN')
    init_default_scope('mmdet')
    model = DET_MODELS.build(cfg.model).eval()
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.backbone.modules())
    reparameterize(model)
    assert model.backbone.deploy
