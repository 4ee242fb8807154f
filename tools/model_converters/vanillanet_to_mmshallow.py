"""Convert an official VanillaNet checkpoint (huawei-noah/VanillaNet ``models/vanillanet.py``,
train-time or after ``main.py --switch_to_deploy``) into an mmpretrain ``ImageClassifier``
checkpoint with mmshallow's ``VanillaNet`` backbone and ``VanillaNetClassifier``.

    python tools/model_converters/vanillanet_to_mmshallow.py SRC DST

The official checkpoint holds its weights under ``model`` and/or ``model_ema``; ``model`` is read
first, as the official ``--model_key model|model_ema`` does (``--key model_ema`` picks the
EMA). A train-time checkpoint gets λ = 1 (``act_lambda``) in every module: the official code
keeps λ (``act_learn``) out of the checkpoint, and released models finished deep training.
Pair the result with ``head=dict(type='ClsHead', ...)``. ``convert(state_dict)`` is importable.
"""
import re
from collections import OrderedDict

import torch

from mmshallow.utils.converters import (match_rule, run_converter, strip_ddp_prefix, unexpected_key,
                                        unwrap_state_dict)

FIELDS = ('model', 'model_ema', 'state_dict')  # 'model' first, as the official --model_key


def _conv_bn(official: str, ours: str, first: int = 0):
    """The rules of an official ``nn.Sequential(Conv2d, BatchNorm2d, ...)`` at ``official``
    (its modules ``first`` and ``first + 1``): ours is a ``conv`` + ``bn`` pair at ``ours``."""
    return [(re.compile(f'{official}{first}\\.'), ours + 'conv.'),
            (re.compile(f'{official}{first + 1}\\.'), ours + 'bn.')]


# official module path -> ours, train-time layout
_TRAIN = [
    *_conv_bn(r'^stem1\.', 'backbone.stem.conv1.'),
    *_conv_bn(r'^stem2\.', 'backbone.stem.conv2.'),
    (re.compile(r'^stem2\.2\.(weight)$'), r'backbone.stem.act.\1'),
    (re.compile(r'^stem2\.2\.bn\.'), 'backbone.stem.act.bn.'),
    *_conv_bn(r'^stages\.(\d+)\.conv([12])\.', r'backbone.stages.\1.conv\2.'),
    (re.compile(r'^stages\.(\d+)\.act\.(weight)$'), r'backbone.stages.\1.act.\2'),
    (re.compile(r'^stages\.(\d+)\.act\.bn\.'), r'backbone.stages.\1.act.bn.'),
    *_conv_bn(r'^cls1\.', 'neck.conv1.', first=2),
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


def is_fused(state_dict) -> bool:
    """Deploy layout: the official fused stem ``stem.0`` or head ``cls.2``."""
    return any(strip_ddp_prefix(k).startswith(('stem.0.', 'cls.2.'))
               for k in unwrap_state_dict(state_dict, FIELDS))


def convert(state_dict) -> OrderedDict:
    """Official VanillaNet keys -> ``backbone.*`` / ``neck.*`` of an mmpretrain classifier."""
    state_dict = unwrap_state_dict(state_dict, FIELDS)
    rules = _DEPLOY if is_fused(state_dict) else _TRAIN
    converted = OrderedDict()
    for key, value in state_dict.items():
        renamed = match_rule(strip_ddp_prefix(key), rules,
                             accept=lambda rest: not rest or rest in _PARAMS)
        if renamed is None:
            raise unexpected_key('VanillaNet', key,
                                 'deploy' if rules is _DEPLOY else 'train-time')
        converted[''.join(renamed)] = value
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
    run_converter(
        argv, 'VanillaNet', convert, is_fused, FIELDS,
        fused_layout='fused (build VanillaNet and VanillaNetClassifier with deploy=True)',
        train_layout='train-time (λ = 1)', keys=('model', 'model_ema'),
        key_help="the weights to convert (default: 'model', else 'model_ema'; the official "
        "detection backbone loads 'model_ema')")


if __name__ == '__main__':
    main()
