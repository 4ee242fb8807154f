"""The quickstarts: train on data made here (nothing is downloaded), then test the fused model.

    python tools/quickstart.py [detection] [--work-dir DIR] [--data-root DIR] [--config CFG]
        [--int8]
    python tools/quickstart.py classification [--config CFG | --all] [--work-dir DIR]
        [--data-root DIR] [--int8]
    python tools/quickstart.py segmentation [--work-dir DIR] [--data-root DIR] [--config CFG]
        [--int8]
    ... [--int8-only]            # quantize the checkpoint of an earlier run in --work-dir
    ... [--summary FILE]         # also write the results without this machine's paths
    python tools/quickstart.py int8-tables [--write docs/int8.md]
    python tools/quickstart.py detection-table [--write docs/get_started.md]
    python tools/quickstart.py segmentation-table [--write docs/get_started.md]

detection (default): generates the synthetic shapes set (tools/make_shapes_coco.py) and trains
a YOLOX detector with a ParNet-S backbone on it (CPU, 10-30 minutes on 2 cores, by the CPU).
classification: exports scikit-learn's handwritten digits (tools/make_digits.py) and trains one
of configs/quickstart/*_digits.py (default RepVGG-A0, a few minutes; ``--all``: every
family in turn).
segmentation: generates the shapes segmentation set (exact masks, background + 3 shapes) in
mmseg's img_dir/ann_dir layout and trains UPerNet with a small RepVGG backbone on it (a few
minutes); the metric is mmseg's mIoU (percent).

Each run prints mmengine's progress log, then the metric of the train-time model (last
validation; EMA weights where the config uses EMA) and of the re-parameterized model (a fresh
test run with ReparamHook, as tools/test.py / mim test do), the wall time, and where the logs,
the checkpoint, the deploy checkpoint and a JSON summary are.

``--int8`` (needs ``--deploy``) then runs tools/quantize.py on the checkpoint: the fused model
exported to ONNX (fp32) and quantized to INT8 (calibrated on 128 train images), both evaluated
in ONNX Runtime on the val set and timed; their metrics join the summary (``int8``).
``--int8-only`` skips training: it quantizes the checkpoint that an earlier run left in the
work dir (its ``quickstart_results.json``) and updates that summary. ``int8-tables`` renders
the INT8 tables of docs/int8.md from docs/quickstart_digits.json and
docs/quickstart_detection.json (``--summary`` of the ``--int8`` runs); ``detection-table``
renders the detection quickstart's measured table of docs/get_started.md from the latter,
``segmentation-table`` the segmentation one from docs/quickstart_segmentation.json.
"""
import argparse
import glob
import json
import os
import os.path as osp
import time

from mmengine.config import Config
from mmengine.runner import Runner

from mmshallow.utils.generated import replace_between

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = osp.join(REPO, 'configs', 'quickstart')
CONFIG = osp.join(QUICKSTART, 'yolox_parnet-s_1xb8-20e_shapes.py')
CLS_CONFIG = osp.join(QUICKSTART, 'repvgg-a0_1xb32-12e_digits.py')
SEG_CONFIG = osp.join(QUICKSTART, 'upernet_repvgg-tiny_1xb8-1k_shapes-seg.py')

# task -> default config, data root, the validation metric and the name it gets in the results
TASKS = {
    'detection': dict(config=CONFIG, data_root='data/shapes', work_dir='work_dirs/quickstart',
                      metric='coco/bbox_mAP', name='bbox_mAP'),
    'classification': dict(config=CLS_CONFIG, data_root='data/digits',
                           work_dir='work_dirs/quickstart_digits', metric='accuracy/top1',
                           name='top1'),
    'segmentation': dict(config=SEG_CONFIG, data_root='data/shapes_seg',
                         work_dir='work_dirs/quickstart_seg', metric='mIoU', name='mIoU'),
}
# the static deploy configs at the quickstarts' input sizes (--int8)
DEPLOY_CONFIGS = {
    'detection': osp.join(REPO, 'configs', 'deploy', 'detection_onnxruntime_static-160x160.py'),
    'classification': osp.join(REPO, 'configs', 'deploy',
                               'classification_onnxruntime_static-32x32.py'),
    'segmentation': osp.join(REPO, 'configs', 'deploy',
                             'segmentation_onnxruntime_static-128x128.py'),
}


INT8_START, INT8_END = '<!-- int8-quickstart:start -->', '<!-- int8-quickstart:end -->'
DET_START, DET_END = '<!-- quickstart-detection:start -->', '<!-- quickstart-detection:end -->'
SEG_START, SEG_END = ('<!-- quickstart-segmentation:start -->',
                      '<!-- quickstart-segmentation:end -->')
SUMMARIES = dict(classification=osp.join(REPO, 'docs', 'quickstart_digits.json'),
                 detection=osp.join(REPO, 'docs', 'quickstart_detection.json'),
                 segmentation=osp.join(REPO, 'docs', 'quickstart_segmentation.json'))
# the table commands: the markers of the part of a doc they replace
TABLES = {'int8-tables': (INT8_START, INT8_END), 'detection-table': (DET_START, DET_END),
          'segmentation-table': (SEG_START, SEG_END)}
# what a summary for the docs leaves out: this machine's paths
LOCAL_KEYS = ('checkpoint', 'deploy_checkpoint', 'logs', 'test_logs', 'report')


def classification_configs():
    """Every family's digits quickstart config (configs/quickstart/*_digits.py), sorted."""
    return sorted(p for p in glob.glob(osp.join(QUICKSTART, '*_digits.py'))
                  if not osp.basename(p).startswith('_'))


def _prepare_data(task: str, data_root: str) -> None:
    if task == 'detection':
        if osp.exists(osp.join(data_root, 'annotations', 'instances_val2017.json')):
            return
        from mmshallow.data_generators import generate_shapes_coco
        info = generate_shapes_coco(data_root)
        what = 'generated'
    elif task == 'segmentation':
        if osp.isdir(data_root) and os.listdir(data_root):
            _check_segmentation_folders(data_root)
            return
        from mmshallow.data_generators import generate_shapes_segmentation
        info = generate_shapes_segmentation(data_root)
        what = 'generated the shapes segmentation set:'
    else:
        if osp.isdir(data_root) and os.listdir(data_root):
            _check_digits_folders(data_root)
            return
        from mmshallow.data_generators import export_digits
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


def _check_segmentation_folders(data_root: str) -> None:
    """An existing, non-empty data root must hold both splits' images and label maps (it is
    never overwritten)."""
    for folder, pattern in (('img_dir', '*.jpg'), ('ann_dir', '*.png')):
        for split in ('train', 'val'):
            path = osp.join(data_root, folder, split)
            if not glob.glob(osp.join(path, pattern)):
                raise FileNotFoundError(
                    f'{path} has no {pattern} files: {data_root} exists but is not the '
                    'segmentation quickstart set (img_dir/{train,val}/*.jpg, '
                    'ann_dir/{train,val}/*.png); remove it to have it generated again')


def _data_root_options(task: str, data_root: str, cfg_options=None) -> dict:
    """``cfg_options`` with every dataloader (and the COCO evaluators) pointed at data_root."""
    data_root = data_root.rstrip('/') + '/'
    options = {f'{split}_dataloader.dataset.data_root': data_root
               for split in ('train', 'val', 'test')}
    if task == 'detection':
        options.update({f'{split}_evaluator.ann_file':
                        data_root + 'annotations/instances_val2017.json'
                        for split in ('val', 'test')})
    options.update(cfg_options or {})
    return options


def _load_config(task, config, data_root, work_dir, cfg_options):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(_data_root_options(task, data_root, cfg_options))
    cfg.work_dir = work_dir
    return cfg


def _int8(task: str, config: str, checkpoint: str, data_root: str, work_dir: str,
          cfg_options=None) -> dict:
    """tools/quantize.py on the trained checkpoint: fp32 and INT8 ONNX models, evaluated and
    timed in ONNX Runtime; the summary of its report."""
    from mmshallow.deploy.quantize import quantize
    name = TASKS[task]['name']
    report = quantize(config, checkpoint, DEPLOY_CONFIGS[task], work_dir,
                      cfg_options=_data_root_options(task, data_root, cfg_options))
    fp32, int8 = report['models']['fp32'], report['models']['int8']
    summary = {f'{name}_fp32_onnx': fp32['metric'], f'{name}_int8': int8['metric'],
               'latency_ms_fp32': round(fp32['latency_ms'], 3),
               'latency_ms_int8': round(int8['latency_ms'], 3),
               'speedup': round(int8['speedup'], 2), 'report': osp.join(work_dir, 'quantize.json')}
    if 'output_sqnr_db' in int8:
        summary['output_sqnr_db'] = round(int8['output_sqnr_db'], 2)
    print(f'\nquickstart: INT8 (ONNX Runtime) {name} {summary[f"{name}_int8"]:.3f} vs '
          f'{summary[f"{name}_fp32_onnx"]:.3f} fp32, {summary["latency_ms_int8"]:.2f} vs '
          f'{summary["latency_ms_fp32"]:.2f} ms (batch 1, x{summary["speedup"]:.2f}); '
          f'report {summary["report"]}')
    return summary


def run(work_dir: str, data_root: str, config: str = CONFIG, cfg_options=None,
        task: str = 'detection', int8: bool = False) -> dict:
    """Train ``config`` on the quickstart data in ``data_root`` (made if missing), then test
    the fused model in a fresh runner (and with ``int8`` quantize it, see ``--int8``). Returns
    (and writes to ``quickstart_results.json`` in ``work_dir``) the train-time and fused
    metrics, times and paths."""
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
    if int8:
        results['int8'] = _int8(task, config, checkpoint, data_root, osp.join(work_dir, 'int8'),
                                cfg_options)
    summary = osp.join(work_dir, 'quickstart_results.json')
    with open(summary, 'w') as f:
        json.dump(results, f, indent=2)
    unit = '' if task == 'detection' else '%'
    print(f'\nquickstart: {name} {train_value:.3f}{unit} (train-time model, last validation), '
          f'{fused_value:.3f}{unit} (fused model, test); training took {train_minutes:.1f} min')
    print(f'quickstart: logs in {runner.log_dir}, checkpoint {checkpoint}, deploy checkpoint '
          f'{results["deploy_checkpoint"]} (load it with deploy=True), summary in {summary}')
    return results


def portable(results: dict) -> dict:
    """``results`` without this machine's paths (the form kept under docs/)."""
    out = {k: v for k, v in results.items() if k not in LOCAL_KEYS}
    if 'int8' in out:
        out['int8'] = portable(out['int8'])
    return out


def int8_markdown(digits: list, detection: dict) -> str:
    """docs/int8.md's generated part: the quickstart models, fp32 vs INT8 in ONNX Runtime."""
    lines = [INT8_START, '',
             'Generated by `python tools/quickstart.py int8-tables --write docs/int8.md` from '
             '`docs/quickstart_digits.json` and `docs/quickstart_detection.json` (the quickstarts '
             'run with `--int8` or `--int8-only` and `--summary`, 2-core CPU, each run alone). '
             'Latency: '
             'batch 1, median of 50 runs, ONNX Runtime on the CPU. The fp32 model is the fused '
             'ONNX export; INT8 is calibrated on 128 train images.', '',
             '| config | top-1 fused PyTorch (%) | top-1 fp32 ORT (%) | top-1 INT8 (%) | drop '
             '(points) | logits SQNR (dB) | latency fp32 / INT8 (ms) | speed-up |',
             '|---|---|---|---|---|---|---|---|']
    for run in digits:
        if 'int8' not in run:
            continue
        q = run['int8']
        lines.append(
            f"| [{osp.basename(run['config'])}](../{run['config']}) | {run['top1_fused']:.2f} | "
            f"{q['top1_fp32_onnx']:.2f} | {q['top1_int8']:.2f} | "
            f"{q['top1_fp32_onnx'] - q['top1_int8']:+.2f} | {q['output_sqnr_db']:.1f} | "
            f"{q['latency_ms_fp32']:.2f} / {q['latency_ms_int8']:.2f} | {q['speedup']:.2f}x |")
    if detection and 'int8' in detection:
        q = detection['int8']
        lines += ['', '| config | bbox mAP fused PyTorch | bbox mAP fp32 ORT | bbox mAP INT8 | '
                  'drop | latency fp32 / INT8 (ms) | speed-up |', '|---|---|---|---|---|---|---|',
                  f"| [{osp.basename(detection['config'])}](../{detection['config']}) | "
                  f"{detection['bbox_mAP_fused']:.3f} | {q['bbox_mAP_fp32_onnx']:.3f} | "
                  f"{q['bbox_mAP_int8']:.3f} | {q['bbox_mAP_fp32_onnx'] - q['bbox_mAP_int8']:+.3f} "
                  f"| {q['latency_ms_fp32']:.2f} / {q['latency_ms_int8']:.2f} | "
                  f"{q['speedup']:.2f}x |"]
    lines += ['', INT8_END]
    return '\n'.join(lines)


def detection_markdown(detection: dict) -> str:
    """docs/get_started.md's generated table: the recorded detection quickstart run."""
    return '\n'.join([
        DET_START, '',
        'Generated by `python tools/quickstart.py detection-table --write docs/get_started.md` '
        'from `docs/quickstart_detection.json` (`--summary` of a full run, 2-core CPU, alone on '
        'the machine).', '',
        '| config | bbox mAP (train-time model, last validation) | bbox mAP (fused model, test) '
        '| training wall time (min) | total wall time (min) |', '|---|---|---|---|---|',
        f"| [{osp.basename(detection['config'])}](../{detection['config']}) | "
        f"{detection['bbox_mAP_train_time']:.3f} | {detection['bbox_mAP_fused']:.3f} | "
        f"{detection['train_minutes']:.1f} | {detection['total_minutes']:.1f} |", '', DET_END])


def segmentation_markdown(segmentation: dict) -> str:
    """docs/get_started.md's generated table: the recorded segmentation quickstart run."""
    lines = [
        SEG_START, '',
        'Generated by `python tools/quickstart.py segmentation-table --write docs/get_started.md` '
        'from `docs/quickstart_segmentation.json` (`--summary` of a full run, 2-core CPU, alone '
        'on the machine). mIoU in percent over background, circle, square and triangle on the '
        'val split.', '',
        '| config | mIoU (train-time model, last validation) | mIoU (fused model, test) '
        '| training wall time (min) | total wall time (min) |', '|---|---|---|---|---|',
        f"| [{osp.basename(segmentation['config'])}](../{segmentation['config']}) | "
        f"{segmentation['mIoU_train_time']:.2f} | {segmentation['mIoU_fused']:.2f} | "
        f"{segmentation['train_minutes']:.1f} | {segmentation['total_minutes']:.1f} |"]
    if 'int8' in segmentation:
        q = segmentation['int8']
        lines += ['', '| mIoU fp32 ONNX Runtime | mIoU INT8 | latency fp32 / INT8 (ms) | '
                  'speed-up |', '|---|---|---|---|',
                  f"| {q['mIoU_fp32_onnx']:.2f} | {q['mIoU_int8']:.2f} | "
                  f"{q['latency_ms_fp32']:.2f} / {q['latency_ms_int8']:.2f} | "
                  f"{q['speedup']:.2f}x |"]
    return '\n'.join(lines + ['', SEG_END])


def _load_summaries() -> tuple:
    load = (lambda p: json.load(open(p)) if osp.exists(p) else None)
    return (load(SUMMARIES['classification']) or [], load(SUMMARIES['detection']),
            load(SUMMARIES['segmentation']))


def requantize(work_dir: str, data_root: str, task: str) -> dict:
    """``--int8-only``: the INT8 step on the checkpoint of the run recorded in ``work_dir``."""
    summary = osp.join(work_dir, 'quickstart_results.json')
    if not osp.isfile(summary):
        raise FileNotFoundError(f'{summary} does not exist: --int8-only quantizes an earlier '
                                'run of this quickstart in the same --work-dir; run it '
                                'without --int8-only first')
    with open(summary) as f:
        results = json.load(f)
    if results.get('task') != task:
        raise ValueError(f'{summary} is a {results.get("task")!r} run, not {task!r}')
    results['int8'] = _int8(task, osp.join(REPO, results['config']), results['checkpoint'],
                            data_root, osp.join(work_dir, 'int8'))
    with open(summary, 'w') as f:
        json.dump(results, f, indent=2)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('task', nargs='?', default='detection',
                        choices=[*TASKS, *TABLES])
    parser.add_argument('--work-dir', help='default: work_dirs/quickstart (detection), '
                        'work_dirs/quickstart_digits/<config> (classification), '
                        'work_dirs/quickstart_seg (segmentation)')
    parser.add_argument('--data-root', help='default: data/shapes, data/digits, '
                        'data/shapes_seg')
    parser.add_argument('--config', help='default: ' + ', '.join(
        osp.relpath(t['config'], REPO) for t in TASKS.values()))
    parser.add_argument('--all', action='store_true',
                        help='classification: every configs/quickstart/*_digits.py in turn')
    parser.add_argument('--int8', action='store_true',
                        help='then export fp32 and INT8 ONNX models, evaluate and time both '
                        '(tools/quantize.py; needs install.sh --deploy)')
    parser.add_argument('--int8-only', action='store_true',
                        help='no training: the INT8 step on the checkpoint of an earlier run '
                        'in the same --work-dir')
    parser.add_argument('--summary', metavar='FILE',
                        help='also write the results, without local paths, to FILE (the '
                        'docs/quickstart_*.json form)')
    parser.add_argument('--write', metavar='DOC',
                        help='int8-tables / detection-table / segmentation-table: replace '
                        'them in DOC')
    args = parser.parse_args(argv)
    if args.task in TABLES:
        digits, detection, segmentation = _load_summaries()
        table = {'int8-tables': lambda: int8_markdown(digits, detection),
                 'detection-table': lambda: detection_markdown(detection),
                 'segmentation-table': lambda: segmentation_markdown(segmentation)}[args.task]()
        start, end = TABLES[args.task]
        if args.write:
            replace_between(args.write, table, start, end)
        else:
            print(table)
        return table
    task = TASKS[args.task]
    data_root = args.data_root or task['data_root']
    if args.task in ('detection', 'segmentation'):
        if args.all:
            parser.error('--all is for the classification quickstart')
        if args.int8_only:
            results = requantize(args.work_dir or task['work_dir'], data_root, args.task)
        else:
            results = run(args.work_dir or task['work_dir'], data_root,
                          args.config or task['config'], task=args.task, int8=args.int8)
        _write_summary(args.summary, portable(results))
        return results
    if args.all and args.config:
        parser.error('give --config or --all, not both')
    configs = classification_configs() if args.all else [args.config or task['config']]
    results = []
    for config in configs:
        name = osp.splitext(osp.basename(config))[0]
        work_dir = osp.join(args.work_dir or task['work_dir'], name)
        if args.int8_only:
            results.append(requantize(work_dir, data_root, 'classification'))
        else:
            results.append(run(work_dir, data_root, config, task='classification',
                               int8=args.int8))
    if args.all:
        summary = osp.join(args.work_dir or task['work_dir'], 'quickstart_digits.json')
        with open(summary, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'\nquickstart: every family, summary in {summary}: ' + '; '.join(
            f'{osp.basename(r["config"])}: top1 {r["top1_train_time"]:.2f} / '
            f'{r["top1_fused"]:.2f} fused, {r["train_minutes"]:.1f} min' for r in results))
    _write_summary(args.summary, [portable(r) for r in results] if args.all
                   else portable(results[0]))
    return results if args.all else results[0]


def _write_summary(path, results) -> None:
    if path:
        with open(path, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'quickstart: summary without local paths in {path}')


if __name__ == '__main__':
    main()
