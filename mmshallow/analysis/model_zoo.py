"""The model zoo behind ``tools/model_zoo.py``: every arch of every catalogue family measured
the same way (:mod:`.complexity`, batch-1 eager latency of the train-time and the fused model),
the digits quickstart runs beside them, and the tables that ``docs/model_zoo.md`` and each
``configs/<family>/README.md`` show (generated, kept in sync by the tests)."""
import json
import os.path as osp
from typing import Iterable, List, Optional

import torch
import torch.nn as nn

from mmshallow.models.catalogue import FAMILIES, Family
from mmshallow.utils.numerics import randomize_bn_statistics
from .complexity import TensorMode, complexity, deploy_model
from .speed import latency_ms

START, END = '<!-- model-zoo:start -->', '<!-- model-zoo:end -->'
# the generated block of configs/<family>/README.md
FAMILY_START, FAMILY_END = '<!-- catalogue:start -->', '<!-- catalogue:end -->'
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def measure(model: nn.Module, size: int, runs: int, warmup: int = 2) -> dict:
    """Complexity of ``model`` at ``size``² and, with ``runs`` > 0, the batch-1 latency of the
    train-time and of the fused model (random BN statistics, eval mode)."""
    randomize_bn_statistics(model).eval()
    fused = deploy_model(model)
    row = dict(size=size, **complexity(model, (size, size), fused))
    if runs > 0:
        x = torch.randn(1, 3, size, size)
        row.update(latency_train_ms=latency_ms(model, x, runs, warmup),
                   latency_fused_ms=latency_ms(fused, x, runs, warmup))
    return row


def measure_family(family: Family, archs: Optional[Iterable[str]], runs: int) -> List[dict]:
    """One row per arch of ``family`` (all of them, or those in ``archs``)."""
    rows = []
    for arch in family.archs:
        if archs and arch not in archs:
            continue
        torch.manual_seed(0)
        row = dict(family=family.key, arch=arch,
                   **measure(family.build_classifier(arch), family.input_size(arch), runs))
        rows.append(row)
        latency = (f", {row['latency_train_ms']:.1f} -> {row['latency_fused_ms']:.1f} ms"
                   if runs > 0 else '')
        print(f"model_zoo: {family.key} {arch}: {row['deploy_params'] / 1e6:.2f}M, "
              f"{row['flops'] / 1e9:.2f} GFLOPs, depth {row['depth']}{latency}", flush=True)
    return rows


def measure_quickstart(path: str, runs: int) -> List[dict]:
    """Rows for the digits quickstart runs recorded in ``path`` (quickstart_digits.json)."""
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


def _m(n) -> str:
    return f'{n / 1e6:.2f}'


def _ms(row: dict, key: str) -> str:
    return f'{row[key]:.1f}' if row.get(key) is not None else '–'


def _paper(value: Optional[float], digits: int) -> str:
    return '–' if value is None else f'{value:.{digits}f}'


def _configs(family: Family, arch: str, prefix: str) -> str:
    links = [f'[{"train" if i == 0 else "deploy"}]({prefix}{path})'
             for i, path in enumerate(family.configs.get(arch, ()))]
    return ' / '.join(links)


def family_table(zoo: dict, family: Family, prefix: str = '') -> List[str]:
    """The per-arch table of ``family``: measured complexity and latency beside the paper's
    numbers (``prefix`` makes the config links relative to the page they are on)."""
    lines = ['| arch | input | params train (M) | params deploy (M) | paper params (M) | '
             'FLOPs deploy (G) | paper FLOPs (G) | depth | latency train (ms) | '
             'latency fused (ms) | paper top-1 (%) | configs |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    flops_digits = 1 if all(p.flops_g is None or p.flops_g >= 1
                            for p in family.paper.values()) else 3
    for r in (r for r in zoo['rows'] if r['family'] == family.key):
        paper = family.paper[r['arch']]
        lines.append(
            f"| {r['arch']} | {r['size']}² | {_m(r['train_params'])} | "
            f"{_m(r['deploy_params'])} | {_paper(paper.params_m, 2)} | "
            f"{r['flops'] / 1e9:.2f} | {_paper(paper.flops_g, flops_digits)} | "
            f"{r['depth']} | {_ms(r, 'latency_train_ms')} | {_ms(r, 'latency_fused_ms')} | "
            f"{paper.top1_label or '–'} | {_configs(family, r['arch'], prefix)} |")
    return lines


def _legend(zoo: dict) -> str:
    return (f'Generated by `python tools/model_zoo.py` from `docs/model_zoo.json` '
            f'({zoo["machine"]}). Each arch as an ImageNet classifier with its family\'s official '
            'classifier (1000 classes); train-time and deploy parameters, FLOPs and depth as '
            'defined in `mmshallow/analysis/complexity.py` (deploy = after '
            '`mmshallow.reparameterize`; FLOPs: mmengine\'s count, one multiply-accumulate = one '
            f'FLOP). Latency: batch 1, eager PyTorch fp32, median of {zoo["runs"]} runs, '
            'train-time vs fused model in the same process (–: not timed). Paper columns as '
            'published (no ImageNet training was run here).')


def family_readme_block(zoo: dict, family: Family) -> str:
    """The generated block of ``configs/<family>/README.md``."""
    converter = (f'`tools/model_converters/{family.converter}`' if family.converter
                 else 'none (no official checkpoints to convert)')
    lines = [FAMILY_START, '', _legend(zoo), '',
             f'Paper top-1: {family.top1_source}. Weights converter: {converter}.', '',
             *family_table(zoo, family, prefix='../../'), '', FAMILY_END]
    return '\n'.join(lines)


def markdown(zoo: dict) -> str:
    """docs/model_zoo.md's block: one table per family, then the quickstart table."""
    lines = [START, '', _legend(zoo), '']
    for family in FAMILIES.values():
        if not any(r['family'] == family.key for r in zoo['rows']):
            continue
        lines += [f'#### {family.title}', '',
                  f'Paper top-1: {family.top1_source}. Notes: '
                  f'[configs/{family.key}/README.md](../configs/{family.key}/README.md).', '',
                  *family_table(zoo, family, prefix='../'), '']
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
                f"| [{osp.basename(r['config'])}](../{r['config']}) | {r['family']} | "
                f"{_m(r['train_params'])} | {_m(r['deploy_params'])} | {r['flops'] / 1e6:.1f} | "
                f"{r['depth']} | {_ms(r, 'latency_train_ms')} | {_ms(r, 'latency_fused_ms')} | "
                f"{r['epochs']} | {r['train_minutes']:.1f} | {r['top1']:.2f} | "
                f"{r['top1_fused']:.2f} |")
        lines.append('')
    lines.append(END)
    return '\n'.join(lines)


def plot(zoo: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in zoo['rows'] if r['size'] == 224 and r.get('latency_fused_ms')]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for family in FAMILIES.values():
        fam = [r for r in rows if r['family'] == family.key]
        if not fam:
            continue
        flops = [r['flops'] / 1e9 for r in fam]
        axes[0].scatter(flops, [r['latency_fused_ms'] for r in fam], label=family.title)
        axes[1].scatter([r['depth'] for r in fam], [r['latency_fused_ms'] for r in fam],
                        label=family.title)
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
