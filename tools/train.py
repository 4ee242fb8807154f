"""Train an mmdet or mmpretrain model with an mmshallow config (one process or distributed).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--amp]
                          [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
    bash tools/dist_train.sh CONFIG NPROC [args]   # torchrun, GPUs or CPU (gloo)

The codebase comes from the config's ``default_scope`` (mmdet or mmpretrain): this is their
``tools/train.py`` with one addition: on a machine without CUDA, ``--launcher pytorch`` trains
on the CPU with gloo (mmshallow.engine.setup_cpu_distributed); with GPUs nothing changes.
``--resume`` without a path resumes from the work dir's last checkpoint.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmshallow  # noqa: F401  (registers modules, safe checkpoint loading)
from mmshallow.engine import setup_cpu_distributed
from mmshallow.utils import refuse_unsafe_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model with an mmshallow config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CHECKPOINT, or from the work dir\'s last checkpoint')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (bf16 on the CPU)')
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16'], default='float16',
                        help='autocast dtype on GPUs (the CPU always uses bfloat16)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args) -> Config:
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if torch.cuda.is_available():  # mmengine's: fp16 with dynamic loss scaling, or bf16
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.dtype = args.amp_dtype
            if args.amp_dtype == 'float16':
                cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:  # mmengine's AmpOptimWrapper needs a GPU
            cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
            cfg.optim_wrapper.dtype = 'bfloat16'
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main(argv=None) -> Runner:
    args = parse_args(argv)
    cfg = build_config(args)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    # --resume / load_from: a checkpoint with arbitrary pickled objects is refused, clearly
    source = cfg.get('load_from') or f'the last checkpoint in {cfg.work_dir}'
    with refuse_unsafe_checkpoint(source):
        runner.train()
    return runner


if __name__ == '__main__':
    main(sys.argv[1:])
