"""The speed benchmark behind ``tools/benchmark.py``: for each model its complexity
(:mod:`mmshallow.analysis.complexity`) and its latency on this machine along every inference
path, as rows of ``docs/benchmark.json`` and the table of ``docs/benchmark.md``.

Paths: ``train`` (the train-time model, eager), ``fused`` (its deploy model, eager),
``fastest`` (:func:`mmshallow.optimize_for_inference`), ``onnxruntime`` (the BN-folded deploy
model exported to ONNX, run by ONNX Runtime on the CPU) and ``onnxruntime_int8`` (that ONNX
model statically quantized, :func:`mmshallow.deploy.quantize.quantize_onnx`). Efficiency is
the fp32 paths' best against the machine's 3x3-conv throughput (:mod:`.speed`).
"""
import copy
import os.path as osp
import tempfile
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from mmshallow.inference import optimize_for_inference
from mmshallow.models.catalogue import Family, parse_model_name
from mmshallow.models.layers.dynamic_conv import DynamicConv2d
from mmshallow.models.layers.fold_bn import fold_batchnorms
from mmshallow.utils.numerics import randomize_bn_statistics
from mmshallow.utils.torch_compat import onnx_export
from .complexity import TensorMode, complexity, deploy_model
from .ort import ort_run, ort_session
from .speed import conv3x3_gflops, cpu_isa, efficiency, latency_ms

START, END = '<!-- benchmark:start -->', '<!-- benchmark:end -->'
DEFAULT_MODELS = ['repvgg:A0', 'repvgg:B1', 'parnet:s', 'vanillanet:5', 'vanillanet:13',
                  'parameternet:parameternet-600m', 'mobilenext:1.0']
# ImageNet top-1 (%) of the baselines (mmpretrain's model zoo); ours come from the catalogue.
BASELINE_TOP1 = {'resnet34 (mmpretrain)': 73.62, 'resnet50 (mmpretrain)': 76.55}


def build_named(name: str) -> nn.Module:
    """``family:arch`` -> the train-time ImageNet classifier of the catalogue (the family's
    official classifier, 1000 classes)."""
    family, arch = parse_model_name(name)
    return family.build_classifier(arch).eval()


def catalogue_model(name: str) -> Optional[Tuple[Family, str]]:
    """(family, arch) of a ``family:arch`` row, None for a baseline or a config."""
    try:
        return parse_model_name(name)
    except ValueError:
        return None


def paper_top1(name: str) -> Optional[float]:
    if name in BASELINE_TOP1:
        return BASELINE_TOP1[name]
    ours = catalogue_model(name)
    return None if ours is None else ours[0].paper[ours[1]].top1


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


def onnxruntime_runners(model: nn.Module, x: torch.Tensor, batch: int
                        ) -> Tuple[Dict[str, Callable], str]:
    """({'onnxruntime': run, 'onnxruntime_int8': run}, '') or ({}, why not) for inputs of
    ``batch`` samples. The INT8 model is :func:`mmshallow.deploy.quantize.quantize_onnx`'s
    (QDQ, per-channel int8 weights, uint8 activations) calibrated on 16 random inputs: random
    weights and inputs are as fast as trained ones, not as accurate."""
    try:
        import onnxruntime  # noqa: F401
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
            session = ort_session(p)
            runners[key] = (lambda s: lambda inputs: ort_run(s, inputs.numpy()))(session)
    return runners, ''


def measure(name: str, train: nn.Module, shape, batches: List[int], runs: int, warmup: int,
            conv_gflops: float, fuse: bool = True, backend: str = 'inductor') -> dict:
    """One row: complexity and latencies of ``train`` (fused copies are made here)."""
    example = torch.randn(1, 3, *shape)
    deploy = deploy_model(train) if fuse else copy.deepcopy(train).eval()
    row = dict(model=name, **complexity(train, shape, deploy), paper_top1=paper_top1(name),
               latency_ms={}, efficiency={})
    fused = fold_batchnorms(copy.deepcopy(deploy))  # the speed paths also fold the BNs left
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
    set_efficiency(row, conv_gflops)
    return row


def set_efficiency(row: dict, conv_gflops: float) -> dict:
    """``row['efficiency']`` per batch from its FLOPs and its fastest fp32 path."""
    for batch, lat in row['latency_ms'].items():
        best = min(v for k, v in lat.items() if k != 'onnxruntime_int8')  # fp32 paths
        row['efficiency'][batch] = efficiency(row['flops'], int(batch), best, conv_gflops)
    return row


def timm_repvgg(arch: str) -> Optional[nn.Module]:
    try:
        import timm
        from timm.utils.model import reparameterize_model
    except ImportError:
        return None
    name = f'repvgg_{arch.lower()}'
    if name not in timm.list_models('repvgg*'):
        return None
    model = timm.create_model(name, pretrained=False)
    return reparameterize_model(randomize_bn_statistics(model).eval())


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
            f"{result['runs']} --warmup {result['warmup']} --write docs/benchmark.md` "
            f"(one run, {machine['threads']} "
            f"threads, CPU with {machine.get('cpu_isa', 'unknown')}, torch {machine['torch']}, "
            f"{result['shape'][0]}x{result['shape'][1]}, "
            f"median of {result['runs']} runs after {result['warmup']} warm-up; best 3x3 conv "
            f"{machine['conv3x3_gflops']:.0f} GFLOP/s); raw numbers in `docs/benchmark.json`.")
    return '\n'.join([START, '', head, '', markdown(result['rows'], batches), '', END])


def run(names: List[str], configs: List[str], shape: Tuple[int, int], batches: List[int],
        runs: int, warmup: int, baselines: bool = False, backend: str = 'inductor') -> dict:
    """Measure ``names`` (``family:arch``) and ``configs`` (mmpretrain classifiers) and, with
    ``baselines``, ResNet-34/50 and timm's RepVGG of the same archs: benchmark.json's dict."""
    import mmshallow
    torch.manual_seed(0)
    models = [(name, build_named(name)) for name in names]  # validate names first
    models += [(osp.splitext(osp.basename(c))[0], build_config(c)) for c in configs]
    conv = conv3x3_gflops(runs, warmup)
    print(f'machine: {torch.get_num_threads()} threads, torch {torch.__version__}, '
          f'large 3x3 conv: {conv:.1f} GFLOP/s', flush=True)
    rows = []
    for name, model in models:
        rows.append(measure(name, randomize_bn_statistics(model), shape, batches, runs, warmup,
                            conv, backend=backend))
        print(f'  measured {name}', flush=True)
    if baselines:
        for depth_ in (34, 50):
            rows.append(measure(f'resnet{depth_} (mmpretrain)',
                                randomize_bn_statistics(build_resnet(depth_)), shape, batches,
                                runs, warmup, conv, backend=backend))
        for family, arch in (parse_model_name(n) for n in names):
            timm_model = timm_repvgg(arch) if family.key == 'repvgg' else None
            if timm_model is not None:
                rows.append(measure(f'timm repvgg_{arch.lower()} (reparameterized)',
                                    timm_model, shape, batches, runs, warmup, conv, fuse=False,
                                    backend=backend))
    machine = dict(threads=torch.get_num_threads(), torch=torch.__version__, cpu_isa=cpu_isa(),
                   mmshallow=mmshallow.__version__, conv3x3_gflops=conv)
    return dict(machine=machine, shape=list(shape), runs=runs, warmup=warmup,
                fastest_backend=backend, rows=rows)


def recount(result: dict) -> dict:
    """Recompute the complexity columns (and paper top-1) of ``result``'s mmshallow rows from
    the catalogue, in place: latencies are left as measured."""
    shape = tuple(result['shape'])
    for row in result['rows']:
        if catalogue_model(row['model']) is None:
            continue
        torch.manual_seed(0)
        row.update(complexity(build_named(row['model']), shape),
                   paper_top1=paper_top1(row['model']))
        set_efficiency(row, result['machine']['conv3x3_gflops'])
    return result


def merge(earlier: dict, later: dict, tolerance: float = 0.1) -> dict:
    """``earlier`` with ``later``'s rows in place of (or after) its rows of the same models.
    The machines must agree: their 3x3-conv throughputs within ``tolerance``."""
    a, b = earlier['machine']['conv3x3_gflops'], later['machine']['conv3x3_gflops']
    if abs(a / b - 1) > tolerance or earlier['machine'].get('cpu_isa') != \
            later['machine'].get('cpu_isa'):
        raise ValueError(f'cannot merge runs of different machines: 3x3 conv {a:.0f} vs '
                         f'{b:.0f} GFLOP/s, {earlier["machine"].get("cpu_isa")} vs '
                         f'{later["machine"].get("cpu_isa")}; measure every model again')
    new = {row['model']: row for row in later['rows']}
    rows = [new.pop(row['model'], row) for row in earlier['rows']] + list(new.values())
    return dict(earlier, rows=rows)
