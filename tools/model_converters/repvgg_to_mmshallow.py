"""Convert an official RepVGG checkpoint (DingXiaoH/RepVGG, train-time or deploy layout) into
an mmpretrain ``ImageClassifier`` checkpoint with mmshallow's ``RepVGG`` backbone.

    python tools/model_converters/repvgg_to_mmshallow.py SRC DST

Use the result with ``configs/repvgg/repvgg-*_8xb32_in1k.py`` (train-time weights) or
``repvgg-*_deploy_in1k.py`` (deploy weights). ``convert(state_dict)`` is importable.
"""
import re
from collections import OrderedDict

from mmshallow.utils.converters import (replace_prefix, run_converter, strip_ddp_prefix,
                                        unexpected_key, unwrap_state_dict)

FIELDS = ('state_dict', 'model', 'model_ema')  # where the official scripts keep the weights

# (official pattern, ours), applied in order to the part after the block prefix.
_BLOCK_RENAMES = [
    ('rbr_dense.conv.', 'branch_3x3.conv.'),
    ('rbr_dense.bn.', 'branch_3x3.bn.'),
    ('rbr_1x1.conv.', 'branch_1x1.conv.'),
    ('rbr_1x1.bn.', 'branch_1x1.bn.'),
    ('rbr_identity.', 'branch_norm.'),
    ('rbr_reparam.', 'fused_conv.'),
    ('se.down.', 'se_layer.reduce.'),
    ('se.up.', 'se_layer.expand.'),
]
_STEM = re.compile(r'^stage0\.(.*)$')
_STAGE = re.compile(r'^stage([1-4])\.(\d+)\.(.*)$')


def _rename_block(rest: str, key: str) -> str:
    new = replace_prefix(rest, _BLOCK_RENAMES)
    if new is None:
        raise unexpected_key('RepVGG', key)
    return new


def is_deploy(state_dict) -> bool:
    return any('rbr_reparam.' in k for k in state_dict)


def convert(state_dict) -> OrderedDict:
    """Official RepVGG keys -> ``backbone.*`` / ``head.fc.*`` of an mmpretrain classifier."""
    state_dict = unwrap_state_dict(state_dict, FIELDS)
    converted = OrderedDict()
    for key, value in state_dict.items():
        name = strip_ddp_prefix(key)
        if stem := _STEM.match(name):
            new = 'backbone.stem.' + _rename_block(stem.group(1), key)
        elif stage := _STAGE.match(name):
            index, block, rest = stage.groups()
            new = f'backbone.stages.{int(index) - 1}.{block}.{_rename_block(rest, key)}'
        elif name.startswith('linear.'):
            new = 'head.fc.' + name[len('linear.'):]
        else:
            raise unexpected_key('RepVGG', key)
        converted[new] = value
    return converted


def main(argv=None):
    run_converter(argv, 'RepVGG', convert, is_deploy, FIELDS,
                  fused_layout='deploy (use a *_deploy_in1k.py config)')


if __name__ == '__main__':
    main()
