"""Convert an official VanillaNet checkpoint (huawei-noah/VanillaNet ``models/vanillanet.py``,
train-time or after ``main.py --switch_to_deploy``) into an mmpretrain ``ImageClassifier``
checkpoint with mmshallow's ``VanillaNet`` backbone and ``VanillaNetClsNeck``.

    python tools/model_converters/vanillanet_to_mmshallow.py SRC DST

The official checkpoint holds its weights under ``model`` and/or ``model_ema``; ``model`` is read
first, as the official ``--model_key model|model_ema`` does (``--key model_ema`` picks the
EMA). A train-time checkpoint gets λ = 1 (``act_lambda``) in every module: the official code
keeps λ (``act_learn``) out of the checkpoint, and released models finished deep training.
Pair the result with ``head=dict(type='ClsHead', ...)``. ``convert(state_dict)`` is importable.
"""
import argparse
import re
from collections import OrderedDict

import torch

from mmshallow.utils.converters import (load_official_checkpoint, save_converted,
                                       strip_ddp_prefix, unwrap_state_dict)

# official module path -> ours, train-time layout
_TRAIN = [
    (re.compile(r'^stem1\.0\.'), 'backbone.stem.conv1.conv.'),
    (re.compile(r'^stem1\.1\.'), 'backbone.stem.conv1.bn.'),
    (re.compile(r'^stem2\.0\.'), 'backbone.stem.conv2.conv.'),
    (re.compile(r'^stem2\.1\.'), 'backbone.stem.conv2.bn.'),
    (re.compile(r'^stem2\.2\.(weight)$'), r'backbone.stem.act.\1'),
    (re.compile(r'^stem2\.2\.bn\.'), 'backbone.stem.act.bn.'),
    (re.compile(r'^stages\.(\d+)\.conv([12])\.0\.'), r'backbone.stages.\1.conv\2.conv.'),
    (re.compile(r'^stages\.(\d+)\.conv([12])\.1\.'), r'backbone.stages.\1.conv\2.bn.'),
    (re.compile(r'^stages\.(\d+)\.act\.(weight)$'), r'backbone.stages.\1.act.\2'),
    (re.compile(r'^stages\.(\d+)\.act\.bn\.'), r'backbone.stages.\1.act.bn.'),
    (re.compile(r'^cls1\.2\.'), 'neck.conv1.conv.'),
    (re.compile(r'^cls1\.3\.'), 'neck.conv1.bn.'),
    (re.compile(r'^cls2\.0\.'), 'neck.conv2.'),
]
# after the official switch_to_deploy: stem = (conv, activation), cls = (pool, dropout, conv)
_DEPLOY = [
    (re.compile(r'^stem\.0\.'), 'backbone.stem.fused_conv.'),
    (re.compile(r'^stem\.1\.(weight|bias)$'), r'backbone.stem.act.fused_conv.\1'),
    (re.compile(r'^stages\.(\d+)\.conv\.'), r'backbone.stages.\1.fused_conv.'),
    (re.compile(r'^stages\.(\d+)\.act\.(weight|bias)$'), r'backbone.stages.\1.act.fused_conv.\2'),
    (re.compile(r'^cls\.2\.'), 'neck.fused_conv.'),
]
_PARAMS = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')


def _unwrap(checkpoint):
    return unwrap_state_dict(checkpoint, ('model', 'model_ema', 'state_dict'))


def is_fused(state_dict) -> bool:
    """Deploy layout: the official fused stem ``stem.0`` or head ``cls.2``."""
    return any(strip_ddp_prefix(k).startswith(('stem.0.', 'cls.2.')) for k in _unwrap(state_dict))


def convert(state_dict) -> OrderedDict:
    """Official VanillaNet keys -> ``backbone.*`` / ``neck.*`` of an mmpretrain classifier."""
    state_dict = _unwrap(state_dict)
    rules = _DEPLOY if is_fused(state_dict) else _TRAIN
    converted = OrderedDict()
    for key, value in state_dict.items():
        name = strip_ddp_prefix(key)
        for pattern, target in rules:
            match = pattern.match(name)
            if match:
                rest = name[match.end():]
                if rest and rest not in _PARAMS:
                    continue
                converted[match.expand(target) + rest] = value
                break
        else:
            raise KeyError(f'unexpected key in an official VanillaNet checkpoint '
                           f'({"deploy" if rules is _DEPLOY else "train-time"} layout): {key!r}')
    if rules is _TRAIN:
        # λ = 1: deep training is over in released checkpoints (official act_learn is no state)
        stages = sorted({int(k.split('.')[2]) for k in converted
                         if k.startswith('backbone.stages.')})
        owners = ['backbone.stem.'] + [f'backbone.stages.{i}.' for i in stages] + ['neck.']
        for owner in owners:
            if any(k.startswith(owner) for k in converted):
                converted[owner + 'act_lambda'] = torch.tensor(1.0)
    return converted


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert an official VanillaNet checkpoint.')
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output mmpretrain checkpoint')
    parser.add_argument(
        '--key', choices=['model', 'model_ema'],
        help="the weights to convert (default: 'model', else 'model_ema'; the official "
        "detection backbone loads 'model_ema')")
    args = parser.parse_args(argv)
    checkpoint = load_official_checkpoint(args.src)
    if args.key is not None:
        if args.key not in checkpoint:
            parser.error(f'{args.src} has no {args.key!r}; it holds: {", ".join(checkpoint)}')
        checkpoint = checkpoint[args.key]
    state_dict = _unwrap(checkpoint)
    fused = is_fused(state_dict)
    layout = ('fused (build VanillaNet and VanillaNetClsNeck with deploy=True)' if fused else
              'train-time (λ = 1)')
    save_converted(convert(state_dict), args.dst, 'official VanillaNet', fused, layout)

if __name__ == '__main__':
    main()
