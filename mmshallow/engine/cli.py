"""What ``tools/train.py`` and ``tools/test.py`` share: the arguments every runner command
takes, how they turn a config file into the runner's config, and how the runner is built.

Like mmdet's, mmpretrain's and mmseg's own ``tools/train.py`` / ``tools/test.py``, with two
additions: on a machine without CUDA, ``--launcher pytorch`` runs on the CPU with gloo
(:func:`mmshallow.engine.setup_cpu_distributed`; with GPUs nothing changes), and a segmentation
config is checked before anything is built (:mod:`mmshallow.engine.config_checks`: input sizes
the backbone cannot take, missing data folders).
"""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from .config_checks import SPLITS, check_segmentation_config
from .model_wrappers import setup_cpu_distributed

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def add_runner_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher`` and ``--local_rank`` (set by
    ``torch.distributed.launch``) to ``parser``; returns it."""
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: '
                        "the config's work_dir, else work_dirs/<config name>)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', choices=list(LAUNCHERS), default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def parse_runner_args(parser: argparse.ArgumentParser,
                      argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` and export ``LOCAL_RANK`` (from ``--local_rank``) unless the launcher
    already set it."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_runner_config(args: argparse.Namespace) -> Config:
    """The config ``args.config`` with ``--launcher``, ``--cfg-options`` and ``--work-dir``
    applied (work dir default: the config's ``work_dir``, else ``work_dirs/<config name>``).

    Raises:
        FileNotFoundError: ``args.config`` is not a file.
    """
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
    return cfg


def build_runner(cfg: Config, splits: Sequence[str] = SPLITS):
    """The runner of ``cfg`` (``runner_type`` if the config sets one, else mmengine's
    ``Runner``), after :func:`setup_cpu_distributed` for ``cfg.launcher``.

    A segmentation config is checked first for the dataloaders of ``splits`` (training:
    ``('train', 'val')``, testing: ``('test',)``), see
    :func:`mmshallow.engine.config_checks.check_segmentation_config`.

    Raises:
        ValueError: an input size the backbone cannot take.
        FileNotFoundError: a data folder that does not exist.
    """
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    check_segmentation_config(cfg, splits)
    setup_cpu_distributed(cfg, cfg.get('launcher', 'none'))
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
