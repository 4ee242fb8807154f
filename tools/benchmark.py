"""Speed of mmshallow models after fusion, measured on this machine in one run.

    python tools/benchmark.py [--models repvgg:A0 parnet:s vanillanet:5 ...] [--config CFG]
                              [--batch 1 8] [--shape 224 224] [--runs 50] [--warmup 10]
                              [--baselines] [--out-dir work_dirs/benchmark]

For every model: parameters (train-time / deploy), FLOPs of the deploy model (one
multiply-accumulate = one FLOP, mmengine's count and the papers' convention), depth (the
longest chain of conv / linear layers from input to output, read off the traced graph), and the
latency (median of ``--runs`` timed runs after ``--warmup``, same process) at each batch size:

* ``train``: the train-time (multi-branch) model, eager;
* ``fused``: after :func:`mmshallow.reparameterize`, eager;
* ``fastest``: :func:`mmshallow.optimize_for_inference` (fused, BN folded, channels-last,
  then ``--backend``: ``inductor`` (default, torch.compile with frozen weights, compiled per
  batch size), ``torchscript`` (frozen, oneDNN conv fusion) or ``eager``);
* ``onnxruntime``: the fused model exported with the TorchScript ONNX exporter, run in ONNX
  Runtime on the CPU (if onnxruntime is installed);
* ``onnxruntime_int8``: that ONNX model statically quantized to INT8
  (:func:`mmshallow.deploy.quantize.quantize_onnx`: QDQ, per-channel int8 weights, uint8
  activations, calibrated on random inputs), if the deploy extra is installed.

Efficiency and the plot use the fp32 paths.

``--baselines`` adds ResNet-34/50 (mmpretrain) and, when timm is installed, timm's
re-parameterized ``repvgg_*`` beside ours. The machine's own throughput on a large 3x3 conv
(``conv3x3_gflops``) is measured too, so each latency can be read as a fraction of what the
hardware does on the most favourable layer: ``efficiency = FLOPs x batch / latency /
conv3x3 throughput``. Writes ``benchmark.json`` and ``benchmark.png`` (paper top-1 and latency
against depth and FLOPs) to ``--out-dir`` and prints a Markdown table (with the INT8 speed-ups);
``--write docs/benchmark.md`` puts it in that page's generated benchmark block; ``--from-json``
renders an earlier run without measuring (``--recount``: its complexity columns recomputed;
``--models``: those models measured anew and merged in, on the same machine only).

Models are named ``family:arch`` (the catalogue's ImageNet classifier: the family's official
classifier, 1000 classes; :mod:`mmshallow.models.catalogue`) or given as a config
(``--config``, an mmpretrain classifier, run in ``tensor`` mode). Parameters, FLOPs and depth
follow :mod:`mmshallow.analysis.complexity`, the definitions of every mmshallow table; the
measuring is :mod:`mmshallow.analysis.benchmark`.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List

import torch

from mmshallow.analysis import benchmark as bench
from mmshallow.utils.generated import replace_between


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='*', default=None,
                        help=f'family:arch names (default: {" ".join(bench.DEFAULT_MODELS)})')
    parser.add_argument('--config', nargs='*', default=[], help='mmpretrain classifier configs')
    parser.add_argument('--batch', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--threads', type=int, default=None, help='torch threads (default: all)')
    parser.add_argument('--backend', default='inductor', choices=['eager', 'torchscript',
                                                                  'inductor'],
                        help="optimize_for_inference backend of the 'fastest' column")
    parser.add_argument('--baselines', action='store_true',
                        help='add ResNet-34/50 (mmpretrain) and timm RepVGG (if installed)')
    parser.add_argument('--out-dir', default='work_dirs/benchmark')
    parser.add_argument('--write', metavar='PAGE',
                        help="replace PAGE's generated benchmark block (docs/benchmark.md) "
                        "with this run's")
    parser.add_argument('--from-json', metavar='JSON',
                        help='start from an earlier benchmark.json: render it (and --write); '
                        'with --models, measure those models anew and replace their rows; with '
                        '--recount, recompute the complexity columns (no timing)')
    parser.add_argument('--recount', action='store_true',
                        help='with --from-json: params, FLOPs, depth and paper top-1 of its rows '
                        'recomputed from the catalogue (mmshallow.analysis.complexity)')
    args = parser.parse_args(argv)
    if min(args.batch) < 1 or args.runs < 1 or args.warmup < 0:
        parser.error(f'--batch must be >= 1, --runs >= 1, --warmup >= 0; got batch={args.batch}'
                     f', runs={args.runs}, warmup={args.warmup}')
    return args


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    if args.from_json and not args.models:
        result = json.load(open(args.from_json))
        if args.recount:
            bench.recount(result)
            with open(args.from_json, 'w') as f:
                json.dump(result, f, indent=2)
        if args.write:
            replace_between(args.write, bench.readme_block(result), bench.START, bench.END)
        print(bench.readme_block(result))
        return result['rows']
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.backend == 'inductor':
        # compile in this process: a pool of compile workers left busy in the background
        # would slow the latencies measured next
        import torch._inductor.config as inductor_config
        inductor_config.compile_threads = 1
    names = bench.DEFAULT_MODELS if args.models is None else args.models
    earlier = json.load(open(args.from_json)) if args.from_json else None
    if earlier:  # measure as the earlier run did
        args.shape, args.runs, args.warmup = earlier['shape'], earlier['runs'], earlier['warmup']
        args.batch = sorted(int(b) for b in earlier['rows'][0]['latency_ms'])
    result = bench.run(names, args.config, tuple(args.shape), args.batch, args.runs,
                       args.warmup, baselines=args.baselines, backend=args.backend)
    if earlier:  # the new rows replace their old ones in the earlier run
        result = bench.merge(earlier, result)
    rows = result['rows']
    os.makedirs(args.out_dir, exist_ok=True)
    with open(osp.join(args.out_dir, 'benchmark.json'), 'w') as f:
        json.dump(result, f, indent=2)
    bench.plot(rows, osp.join(args.out_dir, 'benchmark.png'), str(args.batch[0]))
    print(bench.markdown(rows, args.batch))
    if args.write:
        replace_between(args.write, bench.readme_block(result), bench.START, bench.END)
    print(f'wrote {osp.join(args.out_dir, "benchmark.json")} and benchmark.png')
    return rows


if __name__ == '__main__':
    main(sys.argv[1:])
