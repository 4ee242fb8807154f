"""The quickstarts: train on data made here (nothing is downloaded), then test the fused model.

    python tools/quickstart.py [detection] [--work-dir DIR] [--data-root DIR] [--config CFG]
    python tools/quickstart.py classification [--config CFG | --all] [--work-dir DIR]
        [--data-root DIR]

detection (default): generates the synthetic shapes set (tools/make_shapes_coco.py) and trains
a YOLOX detector with a ParNet-S backbone on it (CPU, about 10 minutes on 2 cores).
classification: exports scikit-learn's handwritten digits (tools/make_digits.py) and trains one
of configs/quickstart/*_digits.py (default RepVGG-A0, about a minute and a half; ``--all``: every
family in turn).

Each run prints mmengine's progress log, then the metric of the train-time model (last
validation; EMA weights where the config uses EMA) and of the re-parameterized model (a fresh
test run with ReparamHook, as tools/test.py / mim test do), the wall time, and where the logs,
the checkpoint, the deploy checkpoint and a JSON summary are.
"""
import argparse
import glob
import json
import os
import os.path as osp
import time

from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = osp.join(REPO, 'configs', 'quickstart')
CONFIG = osp.join(QUICKSTART, 'yolox_parnet-s_1xb8-20e_shapes.py')
CLS_CONFIG = osp.join(QUICKSTART, 'repvgg-a0_1xb32-12e_digits.py')

# task -> default config, data root, the validation metric and the name it gets in the results
TASKS = {
    'detection': dict(config=CONFIG, data_root='data/shapes', work_dir='work_dirs/quickstart',
                      metric='coco/bbox_mAP', name='bbox_mAP'),
    'classification': dict(config=CLS_CONFIG, data_root='data/digits',
                           work_dir='work_dirs/quickstart_digits', metric='accuracy/top1',
                           name='top1'),
}


def classification_configs():
    """Every family's digits quickstart config (configs/quickstart/*_digits.py), sorted."""
    return sorted(p for p in glob.glob(osp.join(QUICKSTART, '*_digits.py'))
                  if not osp.basename(p).startswith('_'))


def _prepare_data(task: str, data_root: str) -> None:
    if task == 'detection':
        if osp.exists(osp.join(data_root, 'annotations', 'instances_val2017.json')):
            return
        from mmshallow.datasets import generate_shapes_coco
        info = generate_shapes_coco(data_root)
        what = 'generated'
    else:
        if osp.isdir(data_root) and os.listdir(data_root):
            _check_digits_folders(data_root)
            return
        from mmshallow.datasets import export_digits
        info = export_digits(data_root)
        what = "exported scikit-learn's digits:"
    print(f'quickstart: {what} {info["num_train"]} train / {info["num_val"]} val images in '
          f'{data_root}')


def _check_digits_folders(data_root: str) -> None:
    """An existing, non-empty data root must hold both splits with images in class folders
    (it is never overwritten)."""
    for split in ('train', 'val'):
        folder = osp.join(data_root, split)
        images = glob.glob(osp.join(folder, '*', '*.png')) if osp.isdir(folder) else []
        if not images:
            raise FileNotFoundError(
                f'{folder} has no images in class folders ({folder}/<class>/*.png): '
                f'{data_root} exists but is not the digits quickstart set; remove it to have it '
                f'exported again, or run python tools/make_digits.py {data_root}')


def _with_data_root(task: str, cfg: Config, data_root: str) -> Config:
    data_root = data_root.rstrip('/') + '/'
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = data_root
    if task == 'detection':
        for split in ('val', 'test'):
            cfg[f'{split}_evaluator'].ann_file = data_root + 'annotations/instances_val2017.json'
    return cfg


def _load_config(task, config, data_root, work_dir, cfg_options):
    cfg = _with_data_root(task, Config.fromfile(config), data_root)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    return cfg


def run(work_dir: str, data_root: str, config: str = CONFIG, cfg_options=None,
        task: str = 'detection') -> dict:
    """Train ``config`` on the quickstart data in ``data_root`` (made if missing), then test
    the fused model in a fresh runner. Returns (and writes to ``quickstart_results.json`` in
    ``work_dir``) the train-time and fused metrics, times and paths."""
    if task not in TASKS:
        raise ValueError(f'quickstart task {task!r} not in {", ".join(TASKS)}')
    metric, name = TASKS[task]['metric'], TASKS[task]['name']
    _prepare_data(task, data_root)
    start = time.time()
    runner = Runner.from_cfg(_load_config(task, config, data_root, work_dir, cfg_options))
    runner.train()
    train_value = runner.message_hub.get_scalar(f'val/{metric}').current()
    train_minutes = (time.time() - start) / 60
    checkpoint = runner.message_hub.get_info('last_ckpt')

    # A fresh test run, as tools/test.py does: ReparamHook fuses the model (and the EMA copy)
    # before testing.
    test_cfg = _load_config(task, config, data_root, osp.join(work_dir, 'test_fused'),
                            cfg_options)
    test_cfg.load_from = checkpoint
    tester = Runner.from_cfg(test_cfg)
    fused_value = tester.test()[metric]

    results = {
        'task': task, 'config': osp.relpath(osp.abspath(config), REPO),
        f'{name}_train_time': float(train_value), f'{name}_fused': float(fused_value),
        'train_minutes': round(train_minutes, 2),
        'total_minutes': round((time.time() - start) / 60, 2), 'checkpoint': checkpoint,
        'deploy_checkpoint': osp.splitext(checkpoint)[0] + '_deploy.pth',
        'logs': runner.log_dir, 'test_logs': tester.log_dir}
    summary = osp.join(work_dir, 'quickstart_results.json')
    with open(summary, 'w') as f:
        json.dump(results, f, indent=2)
    unit = '%' if task == 'classification' else ''
    print(f'\nquickstart: {name} {train_value:.3f}{unit} (train-time model, last validation), '
          f'{fused_value:.3f}{unit} (fused model, test); training took {train_minutes:.1f} min')
    print(f'quickstart: logs in {runner.log_dir}, checkpoint {checkpoint}, deploy checkpoint '
          f'{results["deploy_checkpoint"]} (load it with deploy=True), summary in {summary}')
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('task', nargs='?', default='detection', choices=list(TASKS))
    parser.add_argument('--work-dir', help='default: work_dirs/quickstart (detection), '
                        'work_dirs/quickstart_digits/<config> (classification)')
    parser.add_argument('--data-root', help='default: data/shapes, data/digits')
    parser.add_argument('--config', help='default: ' + ', '.join(
        osp.relpath(t['config'], REPO) for t in TASKS.values()))
    parser.add_argument('--all', action='store_true',
                        help='classification: every configs/quickstart/*_digits.py in turn')
    args = parser.parse_args(argv)
    task = TASKS[args.task]
    data_root = args.data_root or task['data_root']
    if args.task == 'detection':
        if args.all:
            parser.error('--all is for the classification quickstart')
        return run(args.work_dir or task['work_dir'], data_root, args.config or task['config'],
                   task='detection')
    if args.all and args.config:
        parser.error('give --config or --all, not both')
    configs = classification_configs() if args.all else [args.config or task['config']]
    results = []
    for config in configs:
        name = osp.splitext(osp.basename(config))[0]
        work_dir = osp.join(args.work_dir or task['work_dir'], name)
        results.append(run(work_dir, data_root, config, task='classification'))
    if args.all:
        summary = osp.join(args.work_dir or task['work_dir'], 'quickstart_digits.json')
        with open(summary, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'\nquickstart: every family, summary in {summary}: ' + '; '.join(
            f'{osp.basename(r["config"])}: top1 {r["top1_train_time"]:.2f} / '
            f'{r["top1_fused"]:.2f} fused, {r["train_minutes"]:.1f} min' for r in results))
    return results if args.all else results[0]


if __name__ == '__main__':
    main()
