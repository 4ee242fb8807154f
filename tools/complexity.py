"""Parameters (train-time and deploy) and FLOPs of mmshallow's backbones as ImageNet classifiers
(backbone + global average pool + 1000-class FC), measured with mmengine's complexity analysis.

    python tools/complexity.py {repvgg,parnet} [--archs A0 B1] [--shape 224 224] [--json OUT]

FLOPs are mmengine's count for the deploy model: one multiply-accumulate counts as one FLOP,
the convention of the papers' "FLOPs" / "MACs" columns.
"""
import argparse
import json
import logging

from mmengine.analysis import get_model_complexity_info
from mmengine.logging import MMLogger

import mmshallow  # noqa: F401
from mmshallow.registry import MODELS
from mmshallow.testing import ImageNetClassifier, count_params

# family -> registered backbone type; archs come from the class's arch_settings.
FAMILIES = dict(repvgg='RepVGG', parnet='ParNet')


def measure(family: str, arch: str, shape=(224, 224), num_classes: int = 1000) -> dict:
    # The class itself, not MODELS.build: a build resolves names in the current default scope,
    # where a host codebase's module of the same name (mmpretrain's RepVGG) would win.
    backbone = MODELS.get(FAMILIES[family])
    train = ImageNetClassifier(backbone(arch=arch), num_classes)
    deploy = ImageNetClassifier(backbone(arch=arch, deploy=True), num_classes).eval()
    info = get_model_complexity_info(deploy, input_shape=(3, *shape), show_table=False,
                                     show_arch=False)
    return dict(family=family, arch=arch, input=list(shape), train_params=count_params(train),
                deploy_params=count_params(deploy), deploy_flops=int(info['flops']))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('family', choices=sorted(FAMILIES))
    parser.add_argument('--archs', nargs='+', help='default: every arch of the family')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--json', help='also write the rows to this JSON file')
    args = parser.parse_args(argv)
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # per-op "unsupported" notes
    archs = args.archs or list(MODELS.get(FAMILIES[args.family]).arch_settings)
    valid = MODELS.get(FAMILIES[args.family]).arch_settings
    for arch in archs:
        if arch not in valid:
            parser.error(f'arch {arch!r} not in {FAMILIES[args.family]} archs: '
                         f'{", ".join(valid)}')
    rows = []
    print('| arch | params train (M) | params deploy (M) | FLOPs deploy (G) |')
    print('|---|---|---|---|')
    for arch in archs:
        row = measure(args.family, arch, tuple(args.shape))
        rows.append(row)
        print(f"| {arch} | {row['train_params'] / 1e6:.2f} | {row['deploy_params'] / 1e6:.2f} "
              f"| {row['deploy_flops'] / 1e9:.2f} |", flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == '__main__':
    main()
