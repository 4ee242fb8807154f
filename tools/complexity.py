"""Parameters (train-time and deploy), FLOPs and depth of a family's archs as ImageNet
classifiers with the family's official classifier (1000 classes), as every mmshallow table
defines them (:mod:`mmshallow.analysis.complexity`).

    python tools/complexity.py {repvgg,qarepvgg,parnet,vanillanet,parameternet,mobilenext}
        [--archs A0 B1] [--shape 224 224] [--json OUT]

FLOPs are mmengine's count for the deploy model: one multiply-accumulate counts as one FLOP,
the convention of the papers' "FLOPs" / "MACs" columns. The paper's columns come from the
catalogue (:mod:`mmshallow.models.catalogue`).
"""
import argparse
import json

import torch

from mmshallow.analysis.complexity import complexity
from mmshallow.models.catalogue import FAMILIES


def _fmt(value, scale, digits=2):
    return '–' if value is None else f'{value / scale:.{digits}f}'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('family', choices=list(FAMILIES))
    parser.add_argument('--archs', nargs='+', help='default: every arch of the family')
    parser.add_argument('--shape', type=int, nargs=2, default=None, metavar=('H', 'W'),
                        help="default: each arch's native size")
    parser.add_argument('--json', help='also write the rows to this JSON file')
    args = parser.parse_args(argv)
    family = FAMILIES[args.family]
    archs = args.archs or family.archs
    for arch in archs:
        if arch not in family.archs:
            parser.error(f'arch {arch!r} not in {family.title} archs: {", ".join(family.archs)}')
    rows = []
    print('| arch | params train (M) | params deploy (M) | paper params (M) | FLOPs deploy (G) '
          '| paper FLOPs (G) | depth |')
    print('|---|---|---|---|---|---|---|')
    for arch in archs:
        torch.manual_seed(0)
        shape = tuple(args.shape) if args.shape else (family.input_size(arch), ) * 2
        row = dict(family=family.key, arch=arch, input=list(shape),
                   **complexity(family.build_classifier(arch).eval(), shape))
        rows.append(row)
        paper = family.paper[arch]
        print(f"| {arch} | {row['train_params'] / 1e6:.2f} | {row['deploy_params'] / 1e6:.2f} "
              f"| {_fmt(paper.params_m, 1)} | {row['flops'] / 1e9:.2f} | "
              f"{_fmt(paper.flops_g, 1, 3)} | {row['depth']} |", flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == '__main__':
    main()
