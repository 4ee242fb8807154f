"""Evaluate a checkpoint of an mmdet, mmpretrain or mmseg model with an mmshallow config.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out RESULTS.pkl]
                         [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
    python -m torch.distributed.run --nproc_per_node N tools/test.py CONFIG CHECKPOINT \
        --launcher pytorch

The codebase comes from the config's ``default_scope`` (mmdet, mmpretrain or mmseg): this is
their ``tools/test.py`` (the config's ``test_dataloader`` and ``test_evaluator``), small; a
segmentation config's test input size and data folders are checked before anything is built.
Configs with ``mmshallow.ReparamHook`` evaluate the fused (deploy) model, a train-time
CHECKPOINT included; a deploy checkpoint (``tools/reparameterize.py``, ``*_deploy.pth``) goes
with the ``deploy=True`` variant of the config. ``--out`` dumps every prediction (mmengine's
``DumpResults``). Prints and returns the metrics.
"""
import argparse
import os.path as osp
import sys

import mmshallow  # noqa: F401  (registers modules, safe checkpoint loading)
from mmshallow.engine.cli import (add_runner_arguments, build_runner, load_runner_config,
                                  parse_runner_args)
from mmshallow.utils import refuse_unsafe_checkpoint

OUT_SUFFIXES = ('.pkl', '.pickle')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a checkpoint with an mmshallow config')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (train-time, or deploy with a '
                        'deploy config)')
    parser.add_argument('--out', help='dump the predictions to this pickle file (.pkl)')
    return parse_runner_args(add_runner_arguments(parser), argv)


def build_config(args):
    """The runner's config: ``load_from`` the checkpoint, nothing else loaded or resumed."""
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
    if args.out is not None and not args.out.endswith(OUT_SUFFIXES):
        raise ValueError(f'--out {args.out!r}: the predictions are dumped as a pickle, so the '
                         f'file name must end with {" or ".join(OUT_SUFFIXES)}')
    cfg = load_runner_config(args)
    cfg.load_from, cfg.resume = args.checkpoint, False
    return cfg


def main(argv=None) -> dict:
    args = parse_args(argv)
    runner = build_runner(build_config(args), splits=('test', ))
    if args.out is not None:
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    with refuse_unsafe_checkpoint(args.checkpoint):
        return runner.test()


if __name__ == '__main__':
    main(sys.argv[1:])
