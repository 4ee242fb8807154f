"""Train an mmdet, mmpretrain or mmseg model with an mmshallow config (one process or
distributed).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--amp]
                          [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
    bash tools/dist_train.sh CONFIG NPROC [args]   # torchrun, GPUs or CPU (gloo)

The codebase comes from the config's ``default_scope`` (mmdet, mmpretrain or mmseg): this is
their ``tools/train.py`` with two additions: on a machine without CUDA, ``--launcher pytorch``
trains on the CPU with gloo (mmshallow.engine.setup_cpu_distributed; with GPUs nothing
changes), and a segmentation config's crop sizes and data folders are checked before anything
is built (mmshallow.engine.config_checks).
``--resume`` without a path resumes from the work dir's last checkpoint.
"""
import argparse
import sys

import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmshallow  # noqa: F401  (registers modules, safe checkpoint loading)
from mmshallow.engine.cli import (add_runner_arguments, build_runner, load_runner_config,
                                  parse_runner_args)
from mmshallow.utils import refuse_unsafe_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model with an mmshallow config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CHECKPOINT, or from the work dir\'s last checkpoint')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (bf16 on the CPU)')
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16'], default='float16',
                        help='autocast dtype on GPUs (the CPU always uses bfloat16)')
    return parse_runner_args(add_runner_arguments(parser), argv)


def build_config(args) -> Config:
    cfg = load_runner_config(args)
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
    runner = build_runner(cfg, splits=('train', 'val'))
    # --resume / load_from: a checkpoint with arbitrary pickled objects is refused, clearly
    source = cfg.get('load_from') or f'the last checkpoint in {cfg.work_dir}'
    with refuse_unsafe_checkpoint(source):
        runner.train()
    return runner


if __name__ == '__main__':
    main(sys.argv[1:])
