"""Convert an official ParNet checkpoint (imankgoyal/NonDeepNetworks ``simplenet_repvgg``,
train-time or fused) into an mmpretrain ``ImageClassifier`` checkpoint with mmshallow's
``ParNet`` backbone.

    python tools/model_converters/parnet_to_mmshallow.py SRC DST

The released checkpoints were trained with ReLU (see ``ParNet``'s docstring): build the
backbone with ``act_cfg=dict(type='ReLU')`` to evaluate them. ``convert(state_dict)`` is
importable.
"""
import re
from collections import OrderedDict

from mmshallow.utils.converters import (match_rule, replace_prefix, run_converter, strip_ddp_prefix,
                                        unexpected_key, unwrap_state_dict)

FIELDS = ('state_dict', 'state_dict_ema', 'model', 'model_ema')

# official module path -> ours (the block itself; its 'block.' level is dropped)
_MODULES = [
    (re.compile(r'^inits\.0\.([01])\.block\.'), r'inits.0.\1.'),
    (re.compile(r'^inits\.([12])\.block\.'), r'inits.\1.'),
    (re.compile(r'^streams\.(\d)\.(\d+)\.block\.'), r'streams.\1.\2.'),
    (re.compile(r'^downsamples_2\.0\.block\.'), 'downsamples.0.'),
    (re.compile(r'^downsamples_2\.1\.0\.b1\.'), 'downsamples.1.norm_current.'),
    (re.compile(r'^downsamples_2\.1\.0\.b2\.'), 'downsamples.1.norm_previous.'),
    (re.compile(r'^downsamples_2\.1\.2\.block\.'), 'downsamples.1.block.'),
    (re.compile(r'^combine\.0\.b1\.'), 'final_fusion.norm_current.'),
    (re.compile(r'^combine\.0\.b2\.'), 'final_fusion.norm_previous.'),
    (re.compile(r'^combine\.2\.block\.'), 'final_fusion.block.'),
    (re.compile(r'^combine\.3\.block\.'), 'final_downsample.'),
]
# inside an official RepVGGBlock
_BLOCK = [
    ('rbr_dense.conv.', 'convs.branch_3x3.conv.'),
    ('rbr_dense.bn.', 'convs.branch_3x3.bn.'),
    ('rbr_1x1.1.conv.', 'convs.branch_1x1.1.conv.'),  # stride 2: AvgPool2d, conv_bn
    ('rbr_1x1.1.bn.', 'convs.branch_1x1.1.bn.'),
    ('rbr_1x1.conv.', 'convs.branch_1x1.conv.'),
    ('rbr_1x1.bn.', 'convs.branch_1x1.bn.'),
    ('rbr_dense.', 'convs.fused_conv.'),  # after the official fuse_repvgg_block()
    ('rbr_identity.', 'branch_norm.'),
]


def _rename_in_block(rest: str, is_stream: bool, key: str) -> str:
    if rest.startswith('se.cvsig.conv.'):
        return ('sse.' if is_stream else 'se.') + rest[len('se.cvsig.conv.'):]
    new = replace_prefix(rest, _BLOCK)
    if new is None:
        raise unexpected_key('ParNet', key)
    return new


def is_fused(state_dict) -> bool:
    return any(k.endswith('rbr_dense.bias') for k in unwrap_state_dict(state_dict, FIELDS))


def convert(state_dict) -> OrderedDict:
    """Official ParNet keys -> ``backbone.*`` / ``head.fc.*`` of an mmpretrain classifier."""
    converted = OrderedDict()
    for key, value in unwrap_state_dict(state_dict, FIELDS).items():
        name = strip_ddp_prefix(key)
        if name.startswith('head.fc.'):
            converted[name] = value
            continue
        renamed = match_rule(name, _MODULES)
        if renamed is None:
            raise unexpected_key('ParNet', key)
        prefix, rest = renamed
        if not prefix.endswith(('norm_current.', 'norm_previous.')):
            rest = _rename_in_block(rest, prefix.startswith('streams.'), key)
        converted['backbone.' + prefix + rest] = value
    return converted


def main(argv=None):
    # the released weights were trained with ReLU: say so with either layout
    relu = "act_cfg=dict(type='ReLU')"
    run_converter(argv, 'ParNet', convert, is_fused, FIELDS,
                  fused_layout=f'fused (build ParNet with deploy=True, {relu})',
                  train_layout=f'train-time (build ParNet with {relu})')


if __name__ == '__main__':
    main()
