"""Measure every family and arch and write README's model zoo (tables, JSON and a PNG).

    python tools/model_zoo.py [--runs 15] [--families repvgg parnet ...] [--archs A0 s ...]
        [--json docs/model_zoo.json] [--png docs/model_zoo.png] [--write README.md]
    python tools/model_zoo.py --from-json docs/model_zoo.json --write README.md   # no measuring

For each arch, as an ImageNet classifier with the family's official head (1000 classes):
parameters train-time and deploy (fused), FLOPs of the deploy model at the arch's native size
(mmengine's count, one multiply-accumulate = one FLOP), depth (longest conv/linear chain of the
fused graph), CPU latency at batch 1 of the train-time and of the fused model (median of
``--runs`` runs, same process, eager PyTorch, random BN statistics), the paper's top-1 with its
source, and the weights converter that applies. The digits quickstart rows come from
``--quickstart`` (the JSON that ``tools/quickstart.py classification --all`` writes): measured
top-1 (train-time and fused) and training time, plus the same measurements at 32x32.
"""
import argparse
import copy
import json
import logging
import os.path as osp
import sys
from typing import List, Optional

import torch
import torch.nn as nn

import mmshallow  # noqa: F401
from mmshallow.models.layers import reparameterize
from mmshallow.registry import MODELS
from mmshallow.testing import ImageNetClassifier, count_params, randomize_bn_statistics
from mmshallow.utils.generated import replace_between

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'tools'))
from benchmark import TensorMode, count_flops, depth, latency_ms  # noqa: E402

START, END = '<!-- model-zoo:start -->', '<!-- model-zoo:end -->'

FAMILIES = {
    'repvgg': dict(type='RepVGG', title='RepVGG', converter='repvgg_to_mmshallow.py',
                   source='paper Tables 4-5 (D2se: official README)'),
    'parnet': dict(type='ParNet', title='ParNet', converter='parnet_to_mmshallow.py',
                   source='official README figure (read off)'),
    'vanillanet': dict(type='VanillaNet', title='VanillaNet',
                       converter='vanillanet_to_mmshallow.py', source='official README'),
    'parameternet': dict(type='ParameterNet', title='ParameterNet', converter=None,
                         source='official README figure (read off; 22K: paper)'),
    'mobilenext': dict(type='MobileNeXt', title='MobileNeXt', converter=None,
                       source="authors' README"),
}
# (family, arch) -> ImageNet-1k top-1 (%) as published (text, since some carry a note)
PAPER_TOP1 = {
    ('repvgg', 'A0'): '72.41', ('repvgg', 'A1'): '74.46', ('repvgg', 'A2'): '76.48',
    ('repvgg', 'B0'): '75.14', ('repvgg', 'B1'): '78.37', ('repvgg', 'B1g2'): '77.78',
    ('repvgg', 'B1g4'): '77.58', ('repvgg', 'B2'): '78.78', ('repvgg', 'B2g4'): '78.50',
    ('repvgg', 'B3'): '80.52 (200 ep)', ('repvgg', 'B3g4'): '80.21 (200 ep)',
    ('repvgg', 'D2se'): '81.82',
    ('parnet', 's'): '~75.2', ('parnet', 'm'): '~76.6', ('parnet', 'l'): '~77.7',
    ('parnet', 'xl'): '~78.6', ('parnet', 'cifar'): 'CIFAR-10 96.12 / CIFAR-100 81.35 (paper)',
    ('vanillanet', '5'): '72.49', ('vanillanet', '6'): '76.36', ('vanillanet', '7'): '77.98',
    ('vanillanet', '8'): '79.13', ('vanillanet', '9'): '79.87', ('vanillanet', '10'): '80.57',
    ('vanillanet', '11'): '81.08', ('vanillanet', '12'): '81.55', ('vanillanet', '13'): '82.05',
    ('vanillanet', '13-1.5x'): '82.53', ('vanillanet', '13-1.5x-ada'): '83.11',
    ('parameternet', 'ghostnet-1.0x'): '73.98 (GhostNet paper)',
    ('parameternet', 'parameternet-300m'): '~77.2 (1K) / 79.1 (22K)',
    ('parameternet', 'parameternet-600m'): '~79.0 (1K) / 81.6 (22K)',
    ('mobilenext', '0.35'): '64.7', ('mobilenext', '0.5'): '67.7', ('mobilenext', '0.75'): '72.0',
    ('mobilenext', '1.0'): '74.02', ('mobilenext', '1.4'): '76.1',
}
CONFIGS = {
    ('repvgg', 'A0'): 'configs/repvgg/repvgg-a0_8xb32_in1k.py',
    ('repvgg', 'B1'): 'configs/repvgg/repvgg-b1_8xb32_in1k.py',
    ('vanillanet', '5'): 'configs/vanillanet/vanillanet-5_8xb128_in1k.py',
    ('vanillanet', '13'): 'configs/vanillanet/vanillanet-13_8xb128_in1k.py',
    ('vanillanet', '13-1.5x'): 'configs/vanillanet/vanillanet-13-1.5x_8xb128_in1k.py',
    ('parameternet', 'parameternet-600m'): 'configs/parameternet/parameternet-600m_8xb128_in1k.py',
    ('mobilenext', '1.0'): 'configs/mobilenext/mobilenext-1.0_8xb32_in1k.py',
}


def archs_of(family: str) -> List[str]:
    cls = MODELS.get(FAMILIES[family]['type'])
    if family == 'mobilenext':
        return [str(w) for w in cls.widen_factors]
    return list(cls.arch_settings)


def native_size(family: str, arch: str) -> int:
    return 32 if (family, arch) == ('parnet', 'cifar') else 224


def build_classifier(family: str, arch: str) -> nn.Module:
    """The train-time ImageNet classifier with the family's official head."""
    cls = MODELS.get(FAMILIES[family]['type'])
    if family == 'mobilenext':
        return ImageNetClassifier(cls(widen_factor=float(arch)))
    backbone = cls(arch=arch)
    if family == 'vanillanet':
        neck = MODELS.get('VanillaNetClsNeck')(backbone.out_channels[-1], 1000)
        return _Sequential(backbone, neck)
    if family == 'parameternet':
        neck = MODELS.get('GhostNetClsNeck')(backbone.out_channels[-1], 1280,
                                             act_cfg=backbone.arch['act_cfg'])
        return _Sequential(backbone, neck, nn.Linear(1280, 1000))
    return ImageNetClassifier(backbone)


class _Sequential(nn.Module):
    """backbone -> neck(s) taking and giving tuples -> optional FC."""

    def __init__(self, backbone, neck, fc=None):
        super().__init__()
        self.backbone, self.neck, self.fc = backbone, neck, fc

    def forward(self, x):
        out = self.neck(self.backbone(x))[-1].flatten(1)
        return out if self.fc is None else self.fc(out)


def measure(model: nn.Module, size: int, runs: int, warmup: int = 2) -> dict:
    """Train-time and fused complexity and batch-1 latency of ``model`` (fused on a copy)."""
    randomize_bn_statistics(model)
    mmshallow.set_act_lambda(model, 1.0)  # VanillaNet: deep training over
    model.eval()
    fused = reparameterize(copy.deepcopy(model))
    x = torch.randn(1, 3, size, size)
    return dict(size=size, train_params=count_params(model), deploy_params=count_params(fused),
                flops=count_flops(fused, (size, size)), depth=depth(fused, x),
                latency_train_ms=latency_ms(model, x, runs, warmup),
                latency_fused_ms=latency_ms(fused, x, runs, warmup))


def measure_zoo(families, archs: Optional[List[str]], runs: int) -> List[dict]:
    rows = []
    for family in families:
        for arch in archs_of(family):
            if archs and arch not in archs:
                continue
            torch.manual_seed(0)
            row = dict(family=family, arch=arch,
                       **measure(build_classifier(family, arch), native_size(family, arch),
                                 runs))
            row.update(paper_top1=PAPER_TOP1.get((family, arch)),
                       paper_source=FAMILIES[family]['source'],
                       converter=FAMILIES[family]['converter'],
                       config=CONFIGS.get((family, arch)))
            rows.append(row)
            print(f"model_zoo: {family} {arch}: {row['deploy_params'] / 1e6:.2f}M, "
                  f"{row['flops'] / 1e9:.2f} GFLOPs, depth {row['depth']}, "
                  f"{row['latency_train_ms']:.1f} -> {row['latency_fused_ms']:.1f} ms",
                  flush=True)
    return rows


def measure_quickstart(path: str, runs: int) -> List[dict]:
    """Rows for the digits quickstart runs recorded in ``path``."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS as PRETRAIN
    rows = []
    for run in json.load(open(path)):
        cfg = Config.fromfile(osp.join(REPO, run['config']))
        init_default_scope('mmpretrain')
        torch.manual_seed(0)
        model = TensorMode(PRETRAIN.build(cfg.model))
        row = dict(config=run['config'], family=cfg.model.backbone.type.split('.')[-1],
                   top1=run['top1_train_time'], top1_fused=run['top1_fused'],
                   train_minutes=run['train_minutes'], epochs=cfg.train_cfg.max_epochs,
                   **measure(model, 32, runs))
        rows.append(row)
        print(f"model_zoo: quickstart {run['config']}: top-1 {row['top1']:.2f}", flush=True)
    return rows


def _m(n):
    return f'{n / 1e6:.2f}'


def markdown(zoo: dict) -> str:
    """README's model zoo: one table per family, then the quickstart table."""
    lines = [START, '',
             f'Generated by `python tools/model_zoo.py` ({zoo["machine"]}); numbers in '
             '`docs/model_zoo.json`, picture `docs/model_zoo.png`. Latency: batch 1, eager '
             f'PyTorch fp32, median of {zoo["runs"]} runs, train-time vs fused model in the '
             'same process. Top-1 is the paper\'s (no ImageNet training was run here).', '']
    for family, meta in FAMILIES.items():
        rows = [r for r in zoo['rows'] if r['family'] == family]
        if not rows:
            continue
        converter = (f'`tools/model_converters/{meta["converter"]}`' if meta['converter']
                     else 'none (no official checkpoints to convert)')
        lines += [f'#### {meta["title"]}', '',
                  f'Paper top-1: {meta["source"]}. Weights converter: {converter}.', '',
                  '| arch | params train (M) | params deploy (M) | FLOPs deploy (G) | input '
                  '| depth | latency train (ms) | latency fused (ms) | paper top-1 (%) | config |',
                  '|---|---|---|---|---|---|---|---|---|---|']
        for r in rows:
            config = f'[config]({r["config"]})' if r.get('config') else ''
            lines.append(
                f"| {r['arch']} | {_m(r['train_params'])} | {_m(r['deploy_params'])} | "
                f"{r['flops'] / 1e9:.2f} | {r['size']}² | {r['depth']} | "
                f"{r['latency_train_ms']:.1f} | {r['latency_fused_ms']:.1f} | "
                f"{r['paper_top1'] or '–'} | {config} |")
        lines.append('')
    if zoo.get('quickstart'):
        lines += ['#### Digits quickstart (measured here)', '',
                  'scikit-learn\'s digits at 32×32 (1,438 train / 359 val images), one CPU '
                  'process on 2 cores (`python tools/quickstart.py classification --all`); '
                  'top-1 on the validation split by the train-time model (last validation) and '
                  'by the fused model (ReparamHook test run).', '',
                  '| config | family | params train (M) | params deploy (M) | FLOPs deploy (M) | '
                  'depth | latency train (ms) | latency fused (ms) | epochs | training (min) | '
                  'top-1 (%) | top-1 fused (%) |',
                  '|---|---|---|---|---|---|---|---|---|---|---|---|']
        for r in zoo['quickstart']:
            lines.append(
                f"| [{osp.basename(r['config'])}]({r['config']}) | {r['family']} | "
                f"{_m(r['train_params'])} | {_m(r['deploy_params'])} | {r['flops'] / 1e6:.1f} | "
                f"{r['depth']} | {r['latency_train_ms']:.1f} | {r['latency_fused_ms']:.1f} | "
                f"{r['epochs']} | {r['train_minutes']:.1f} | {r['top1']:.2f} | "
                f"{r['top1_fused']:.2f} |")
        lines.append('')
    lines.append(END)
    return '\n'.join(lines)


def write_readme(readme: str, table: str) -> None:
    replace_between(readme, table, START, END)


def plot(zoo: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in zoo['rows'] if r['size'] == 224]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for family, meta in FAMILIES.items():
        fam = [r for r in rows if r['family'] == family]
        if not fam:
            continue
        flops = [r['flops'] / 1e9 for r in fam]
        axes[0].scatter(flops, [r['latency_fused_ms'] for r in fam], label=meta['title'])
        axes[1].scatter([r['depth'] for r in fam], [r['latency_fused_ms'] for r in fam],
                        label=meta['title'])
        for r, x in zip(fam, flops):
            axes[0].annotate(r['arch'], (x, r['latency_fused_ms']), fontsize=6)
    axes[0].set(xscale='log', yscale='log', xlabel='FLOPs of the fused model at 224² (G)',
                ylabel='CPU latency, batch 1, fused (ms)')
    axes[1].set(yscale='log', xlabel='depth (longest conv/linear chain)',
                ylabel='CPU latency, batch 1, fused (ms)')
    for ax in axes:
        ax.grid(True, which='both', alpha=0.3)
    axes[0].legend()
    fig.suptitle(f'mmshallow model zoo: fused latency vs FLOPs and depth ({zoo["machine"]})')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def machine() -> str:
    return f'{torch.get_num_threads()} CPU threads, torch {torch.__version__}'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--families', nargs='+', choices=list(FAMILIES),
                        default=list(FAMILIES))
    parser.add_argument('--archs', nargs='+', help='only these archs (default: all)')
    parser.add_argument('--runs', type=int, default=15, help='timed runs per latency')
    parser.add_argument('--quickstart', help="the JSON of tools/quickstart.py classification "
                        '--all (default: docs/quickstart_digits.json if present)')
    parser.add_argument('--json', help='write the measurements here')
    parser.add_argument('--png', help='write the picture here')
    parser.add_argument('--write', metavar='README', help='replace the model zoo in README')
    parser.add_argument('--from-json', help='render from earlier measurements, no measuring '
                        '(with --quickstart: measure the quickstart rows only)')
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f'--runs must be >= 1, got {args.runs}')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.from_json:
        zoo = json.load(open(args.from_json))
        if args.quickstart:  # the ImageNet rows as they were, the quickstart rows measured anew
            zoo['quickstart'] = measure_quickstart(args.quickstart, zoo['runs'])
    else:
        from mmengine.logging import MMLogger
        MMLogger.get_current_instance().setLevel(logging.ERROR)  # per-op "unsupported" notes
        quickstart = args.quickstart or osp.join(REPO, 'docs', 'quickstart_digits.json')
        zoo = dict(machine=machine(), runs=args.runs,
                   rows=measure_zoo(args.families, args.archs, args.runs),
                   quickstart=(measure_quickstart(quickstart, args.runs)
                               if osp.exists(quickstart) else []))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(zoo, f, indent=1)
    if args.png:
        plot(zoo, args.png)
    table = markdown(zoo)
    if args.write:
        write_readme(args.write, table)
    else:
        print(table)
    return zoo


if __name__ == '__main__':
    main()
