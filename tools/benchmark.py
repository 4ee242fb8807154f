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
``--write README.md`` puts it in README's generated benchmark block, ``--from-json`` renders an
earlier run without measuring.

Models are named ``family:arch`` (ImageNet classifier form: backbone, global pool, 1000-class
FC) or given as a config (``--config``, an mmpretrain classifier, run in ``tensor`` mode).
"""
import argparse
import copy
import json
import logging
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

import mmshallow
from mmshallow import optimize_for_inference, reparameterize
from mmshallow.models.layers.dynamic_conv import DynamicConv2d
from mmshallow.models.layers.fold_bn import fold_batchnorms
from mmshallow.registry import MODELS
from mmshallow.testing import ImageNetClassifier, count_params
from mmshallow.utils.generated import replace_between
from mmshallow.utils.torch_compat import onnx_export

START, END = '<!-- benchmark:start -->', '<!-- benchmark:end -->'
FAMILIES = dict(repvgg='RepVGG', parnet='ParNet', vanillanet='VanillaNet',
                parameternet='ParameterNet', mobilenext='MobileNeXt')
DEFAULT_MODELS = ['repvgg:A0', 'repvgg:B1', 'parnet:s', 'vanillanet:5', 'vanillanet:13',
                  'parameternet:parameternet-600m', 'mobilenext:1.0']
# ImageNet top-1 (%) reported by the papers / official repositories (shared/reference).
PAPER_TOP1 = {
    'repvgg:A0': 72.41, 'repvgg:A1': 74.46, 'repvgg:A2': 76.48, 'repvgg:B0': 75.14,
    'repvgg:B1': 78.37, 'parnet:s': 75.19, 'parnet:m': 76.60, 'parnet:l': 77.66,
    'parnet:xl': 78.55, 'vanillanet:5': 72.49, 'vanillanet:13': 82.05,
    'parameternet:ghostnet-1.0x': 73.98, 'parameternet:parameternet-600m': 81.6,
    'mobilenext:1.0': 74.02, 'resnet34 (mmpretrain)': 73.62, 'resnet50 (mmpretrain)': 76.55,
}
CONV_KINDS = ('aten::_convolution', 'aten::conv2d', 'aten::linear')


class TensorMode(nn.Module):
    """An mmpretrain classifier called as ``model(x, mode='tensor')``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


def build_named(name: str) -> nn.Module:
    """``family:arch`` -> a train-time ImageNet classifier."""
    family, _, arch = name.partition(':')
    if family not in FAMILIES or not arch:
        raise ValueError(f'model {name!r}: expected family:arch with family one of '
                         f'{", ".join(FAMILIES)}')
    cls = MODELS.get(FAMILIES[family])
    if family == 'mobilenext':  # archs are width multipliers
        valid = [str(w) for w in cls.widen_factors]
        kwargs = dict(widen_factor=float(arch)) if arch in valid else None
    else:
        valid = list(cls.arch_settings)
        kwargs = dict(arch=arch) if arch in valid else None
    if kwargs is None:
        raise ValueError(f'model {name!r}: arch {arch!r} not in {cls.__name__} archs: '
                         f'{", ".join(valid)}')
    return ImageNetClassifier(cls(**kwargs)).eval()


def build_config(path: str) -> nn.Module:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    from mmengine.registry import MODELS as ROOT
    return TensorMode(ROOT.build(cfg.model)).eval()


def build_resnet(depth: int) -> nn.Module:
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS as PRETRAIN
    init_default_scope('mmpretrain')
    return TensorMode(PRETRAIN.build(dict(
        type='ImageClassifier', backbone=dict(type='ResNet', depth=depth),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000,
                  in_channels=512 if depth < 50 else 2048)))).eval()


def randomize(model: nn.Module) -> nn.Module:
    """Random BN statistics, so that fusion has something to fold (speed does not care)."""
    from mmshallow.testing import randomize_bn_statistics
    return randomize_bn_statistics(model)


def count_flops(model: nn.Module, shape) -> int:
    from mmengine.analysis import get_model_complexity_info
    info = get_model_complexity_info(model, input_shape=(3, *shape), show_table=False,
                                     show_arch=False)
    return int(info['flops'])


@torch.no_grad()
def depth(model: nn.Module, x: torch.Tensor) -> int:
    """Longest chain of conv / linear ops from input to output in the traced graph.

    A conv adds one to the depth of its data input only: kernels computed at run time (the
    gates of dynamic convs) do not lengthen the chain. VanillaNet's series activation is a
    depthwise conv and counts (its paper counts only the main convs: V-5 is "5 layers")."""
    graph = torch.jit.trace(model, x, check_trace=False).inlined_graph
    level: Dict[str, int] = {}
    for node in graph.nodes():
        if node.kind() in CONV_KINDS:
            d = level.get(next(node.inputs()).debugName(), 0) + 1
        else:
            d = max((level.get(v.debugName(), 0) for v in node.inputs()), default=0)
        for v in node.outputs():
            level[v.debugName()] = d
    return max(level.get(v.debugName(), 0) for v in graph.outputs())


@torch.no_grad()
def cpu_isa() -> str:
    """The widest x86 SIMD / INT8 dot-product extension the CPU reports (/proc/cpuinfo): INT8
    speed-ups depend on it (VNNI runs uint8 x int8 dot products in one instruction)."""
    try:
        with open('/proc/cpuinfo') as f:
            flags = set(next((line for line in f if line.startswith('flags')), '').split())
    except OSError:
        return 'unknown'
    for flag, name in (('avx512_vnni', 'AVX512-VNNI'), ('avx_vnni', 'AVX-VNNI'),
                       ('avx512f', 'AVX-512'), ('avx2', 'AVX2')):
        if flag in flags:
            return name
    return 'no AVX2'


def latency_ms(fn: Callable, x, runs: int, warmup: int) -> float:
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


CONV3X3_SHAPES = ((64, 112), (128, 56), (256, 56), (512, 28))  # (channels, side)


def conv3x3_gflops(runs: int, warmup: int, batch: int = 8) -> float:
    """The machine's throughput on large 3x3 convs (GFLOP/s, multiply-accumulates): the best
    of a few VGG-like layer shapes at ``batch``."""
    best = 0.0
    for channels, side in CONV3X3_SHAPES:
        conv = nn.Conv2d(channels, channels, 3, padding=1).eval()
        x = torch.randn(batch, channels, side, side)
        ms = latency_ms(conv, x, runs, warmup)
        best = max(best, batch * channels * channels * 9 * side * side / (ms / 1e3) / 1e9)
    return best


def onnxruntime_runners(model: nn.Module, x: torch.Tensor, batch: int
                        ) -> Tuple[Dict[str, Callable], str]:
    """({'onnxruntime': run, 'onnxruntime_int8': run}, '') or ({}, why not) for inputs of
    ``batch`` samples. The INT8 model is :func:`mmshallow.deploy.quantize.quantize_onnx`'s
    (QDQ, per-channel int8 weights, uint8 activations) calibrated on 16 random inputs: random
    weights and inputs are as fast as trained ones, not as accurate."""
    try:
        import onnxruntime
    except ImportError:
        return {}, 'onnxruntime is not installed'
    dynamic = any(isinstance(m, DynamicConv2d) for m in model.modules())
    if dynamic and batch != 1:
        # each sample convolves with its own kernels (a grouped conv over the batch): only
        # the batch-1 graph has kernels of a size known at export
        return {}, 'dynamic convolutions export to ONNX at batch 1 only'
    runners = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'model.onnx')
        onnx_export(model, (x[:1], ), path, input_names=['input'],
                    dynamic_axes=None if dynamic else {'input': {0: 'batch'}}, opset_version=16)
        paths = dict(onnxruntime=path)
        try:
            from mmshallow.deploy.quantize import quantize_onnx
        except ImportError:  # mmdeploy or ml_dtypes missing: fp32 only
            quantize_onnx = None
        if quantize_onnx is not None:
            paths['onnxruntime_int8'] = osp.join(tmp, 'model_int8.onnx')
            generator = torch.Generator().manual_seed(0)
            calibration = [torch.randn(x[:1].shape, generator=generator).numpy()
                           for _ in range(16)]
            quantize_onnx(path, paths['onnxruntime_int8'], calibration)
        for key, p in paths.items():
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            session = onnxruntime.InferenceSession(p, options,
                                                   providers=['CPUExecutionProvider'])
            runners[key] = (lambda s: lambda inputs: s.run(None, {'input': inputs.numpy()}))(
                session)
    return runners, ''


def measure(name: str, train: nn.Module, shape, batches: List[int], runs: int, warmup: int,
            conv_gflops: float, fuse: bool = True, backend: str = 'inductor') -> dict:
    """One row: complexity and latencies of ``train`` (fused copies are made here)."""
    example = torch.randn(1, 3, *shape)
    fused = fold_batchnorms(reparameterize(copy.deepcopy(train).eval())) if fuse \
        else copy.deepcopy(train).eval()
    row = dict(model=name, train_params=count_params(train), deploy_params=count_params(fused),
               flops=count_flops(fused, shape), depth=depth(fused, example),
               paper_top1=PAPER_TOP1.get(name), latency_ms={}, efficiency={})
    for batch in batches:
        x = torch.randn(batch, 3, *shape)
        x_cl = x.contiguous(memory_format=torch.channels_last)
        if backend == 'inductor':
            # dynamo caches per code object (every classifier shares one forward) and stops
            # compiling after a few: start afresh for each model and batch size
            torch._dynamo.reset()
        fastest = optimize_for_inference(copy.deepcopy(fused), x, backend=backend)
        lat = dict(train=latency_ms(train.eval(), x, runs, warmup),
                   fused=latency_ms(fused, x, runs, warmup),
                   fastest=latency_ms(fastest, x_cl, runs, warmup))
        runners, note = onnxruntime_runners(fused, example, batch)
        for key, run in runners.items():
            lat[key] = latency_ms(run, x, runs, warmup)
        if note:
            row.setdefault('onnxruntime_note', note)
        row['latency_ms'][str(batch)] = lat
        best = min(v for k, v in lat.items() if k != 'onnxruntime_int8')  # fp32 paths
        row['efficiency'][str(batch)] = row['flops'] * batch / (best / 1e3) / 1e9 / conv_gflops
    return row


def timm_repvgg(arch: str, shape) -> Optional[nn.Module]:
    try:
        import timm
        from timm.utils.model import reparameterize_model
    except ImportError:
        return None
    name = f'repvgg_{arch.lower()}'
    if name not in timm.list_models('repvgg*'):
        return None
    return reparameterize_model(randomize(timm.create_model(name, pretrained=False)).eval())


def plot(rows: List[dict], path: str, batch: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for row in rows:
        ours = not row['model'].startswith(('resnet', 'timm'))
        style = dict(marker='o' if ours else 's', color='C0' if ours else 'C3')
        lat = min(v for k, v in row['latency_ms'][batch].items() if k != 'onnxruntime_int8')
        points = [(row['depth'], row['paper_top1']), (row['flops'] / 1e9, lat),
                  (row['depth'], lat)]
        for ax, (px, py) in zip(axes, points):
            if py is None:
                continue
            ax.scatter(px, py, **style)
            ax.annotate(row['model'], (px, py), fontsize=7, xytext=(3, 3),
                        textcoords='offset points')
    titles = [('depth (longest conv/linear chain)', 'paper ImageNet top-1 (%)'),
              ('FLOPs (G, deploy)', f'latency, batch {batch}, best path (ms)'),
              ('depth (longest conv/linear chain)', f'latency, batch {batch}, best path (ms)')]
    for ax, (xl, yl) in zip(axes, titles):
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        ax.grid(alpha=0.3)
    fig.suptitle('mmshallow (circles) vs baselines (squares), measured on this machine')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def int8_speedups(rows: List[dict], batches: List[int]) -> List[str]:
    """One line per model with an INT8 latency: its speed-up over its own fp32 ONNX Runtime
    model and over timm's re-parameterized RepVGG-A0 in fp32 ONNX Runtime (when measured)."""
    timm = next((r for r in rows if r['model'].startswith('timm repvgg_a0')), None)
    lines = []
    for row in rows:
        cells = []
        for b in batches:
            lat = row['latency_ms'][str(b)]
            if 'onnxruntime_int8' not in lat:
                continue
            cell = f"b{b} {lat['onnxruntime'] / lat['onnxruntime_int8']:.2f}x"
            timm_ort = timm and timm['latency_ms'][str(b)].get('onnxruntime')
            if timm_ort:
                cell += f" ({timm_ort / lat['onnxruntime_int8']:.2f}x timm repvgg_a0)"
            cells.append(cell)
        if cells and not row['model'].startswith(('resnet', 'timm')):
            lines.append(f"- {row['model']}: INT8 vs its fp32 ONNX Runtime model "
                         + ', '.join(cells))
    return lines


def markdown(rows: List[dict], batches: List[int]) -> str:
    head = '| model | params train (M) | params deploy (M) | FLOPs (G) | depth | top-1 (paper) |'
    rule = '|---|---|---|---|---|---|'
    for b in batches:
        head += f' b{b} train / fused / fastest / ORT / ORT INT8 (ms) | b{b} eff. |'
        rule += '---|---|'
    lines = [head, rule]
    for row in rows:
        top1 = '' if row['paper_top1'] is None else f"{row['paper_top1']:.2f}"
        line = (f"| {row['model']} | {row['train_params'] / 1e6:.2f} | "
                f"{row['deploy_params'] / 1e6:.2f} | {row['flops'] / 1e9:.2f} | {row['depth']} "
                f'| {top1} |')
        for b in batches:
            lat = row['latency_ms'][str(b)]
            cells = [f"{lat[k]:.1f}" if k in lat else '-'
                     for k in ('train', 'fused', 'fastest', 'onnxruntime', 'onnxruntime_int8')]
            line += f" {' / '.join(cells)} | {row['efficiency'][str(b)]:.0%} |"
        lines.append(line)
    speedups = int8_speedups(rows, batches)
    if speedups:
        lines += ['', *speedups]
    return '\n'.join(lines)


def readme_block(result: dict) -> str:
    """README's generated benchmark block (table and INT8 speed-ups) from a benchmark.json."""
    batches = sorted(int(b) for b in result['rows'][0]['latency_ms'])
    machine = result['machine']
    ours = ' '.join(r['model'] for r in result['rows']
                    if not r['model'].startswith(('resnet', 'timm')))
    head = (f"Generated by `python tools/benchmark.py --models {ours} --baselines --runs "
            f"{result['runs']} "
            f"--warmup {result['warmup']} --write README.md` (one run, {machine['threads']} "
            f"threads, CPU with {machine.get('cpu_isa', 'unknown')}, torch {machine['torch']}, "
            f"{result['shape'][0]}x{result['shape'][1]}, "
            f"median of {result['runs']} runs after {result['warmup']} warm-up; best 3x3 conv "
            f"{machine['conv3x3_gflops']:.0f} GFLOP/s); raw numbers in `docs/benchmark.json`.")
    return '\n'.join([START, '', head, '', markdown(result['rows'], batches), '', END])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='*', default=None,
                        help=f'family:arch names (default: {" ".join(DEFAULT_MODELS)})')
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
    parser.add_argument('--write', metavar='README',
                        help="replace README's generated benchmark block with this run's")
    parser.add_argument('--from-json', metavar='JSON',
                        help='no measuring: render (and --write) an earlier benchmark.json')
    args = parser.parse_args(argv)
    if min(args.batch) < 1 or args.runs < 1 or args.warmup < 0:
        parser.error(f'--batch must be >= 1, --runs >= 1, --warmup >= 0; got batch={args.batch}'
                     f', runs={args.runs}, warmup={args.warmup}')
    return args


def main(argv=None) -> List[dict]:
    from mmengine.logging import MMLogger
    args = parse_args(argv)
    if args.from_json:
        result = json.load(open(args.from_json))
        if args.write:
            replace_between(args.write, readme_block(result), START, END)
        print(readme_block(result))
        return result['rows']
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # complexity "unsupported op" notes
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.backend == 'inductor':
        # compile in this process: a pool of compile workers left busy in the background
        # would slow the latencies measured next
        import torch._inductor.config as inductor_config
        inductor_config.compile_threads = 1
    torch.manual_seed(0)
    shape = tuple(args.shape)
    names = DEFAULT_MODELS if args.models is None else args.models
    models = [(name, build_named(name)) for name in names]  # validate names first
    models += [(osp.splitext(osp.basename(c))[0], build_config(c)) for c in args.config]
    conv = conv3x3_gflops(args.runs, args.warmup)
    print(f'machine: {torch.get_num_threads()} threads, torch {torch.__version__}, '
          f'large 3x3 conv: {conv:.1f} GFLOP/s', flush=True)
    rows = []
    for name, model in models:
        rows.append(measure(name, randomize(model), shape, args.batch, args.runs, args.warmup,
                            conv, backend=args.backend))
        print(f'  measured {name}', flush=True)
    if args.baselines:
        for depth_ in (34, 50):
            rows.append(measure(f'resnet{depth_} (mmpretrain)', randomize(build_resnet(depth_)),
                                shape, args.batch, args.runs, args.warmup, conv,
                                backend=args.backend))
        for name in names:
            family, _, arch = name.partition(':')
            timm_model = timm_repvgg(arch, shape) if family == 'repvgg' else None
            if timm_model is not None:
                rows.append(measure(f'timm repvgg_{arch.lower()} (reparameterized)',
                                    timm_model, shape, args.batch, args.runs, args.warmup,
                                    conv, fuse=False, backend=args.backend))
    os.makedirs(args.out_dir, exist_ok=True)
    result = dict(machine=dict(threads=torch.get_num_threads(), torch=torch.__version__,
                               cpu_isa=cpu_isa(),
                               mmshallow=mmshallow.__version__, conv3x3_gflops=conv),
                  shape=list(shape), runs=args.runs, warmup=args.warmup,
                  fastest_backend=args.backend, rows=rows)
    with open(osp.join(args.out_dir, 'benchmark.json'), 'w') as f:
        json.dump(result, f, indent=2)
    plot(rows, osp.join(args.out_dir, 'benchmark.png'), str(args.batch[0]))
    print(markdown(rows, args.batch))
    if args.write:
        replace_between(args.write, readme_block(result), START, END)
    print(f'wrote {osp.join(args.out_dir, "benchmark.json")} and benchmark.png')
    return rows


if __name__ == '__main__':
    main(sys.argv[1:])
