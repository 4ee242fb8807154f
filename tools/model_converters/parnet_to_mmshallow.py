"""Convert an official ParNet checkpoint (imankgoyal/NonDeepNetworks ``simplenet_repvgg``,
train-time or fused) into an mmpretrain ``ImageClassifier`` checkpoint with mmshallow's
``ParNet`` backbone.

    python tools/model_converters/parnet_to_mmshallow.py SRC DST

The released checkpoints were trained with ReLU (see ``ParNet``'s docstring): build the
backbone with ``act_cfg=dict(type='ReLU')`` to evaluate them. ``convert(state_dict)`` is
importable.
"""
import argparse
import re
from collections import OrderedDict

from mmshallow.utils.converters import (load_official_checkpoint, save_converted,
                                       strip_ddp_prefix, unwrap_state_dict)

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


def _unwrap(checkpoint):
    return unwrap_state_dict(checkpoint, ('state_dict', 'state_dict_ema', 'model', 'model_ema'))


def _rename_in_block(rest: str, is_stream: bool, key: str) -> str:
    if rest.startswith('se.cvsig.conv.'):
        return ('sse.' if is_stream else 'se.') + rest[len('se.cvsig.conv.'):]
    for old, new in _BLOCK:
        if rest.startswith(old):
            return new + rest[len(old):]
    raise KeyError(f'unexpected key in an official ParNet checkpoint: {key!r}')


def is_fused(state_dict) -> bool:
    return any(k.endswith('rbr_dense.bias') for k in _unwrap(state_dict))


def convert(state_dict) -> OrderedDict:
    """Official ParNet keys -> ``backbone.*`` / ``head.fc.*`` of an mmpretrain classifier."""
    converted = OrderedDict()
    for key, value in _unwrap(state_dict).items():
        name = strip_ddp_prefix(key)
        if name.startswith('head.fc.'):
            converted[name] = value
            continue
        for pattern, target in _MODULES:
            match = pattern.match(name)
            if match:
                prefix = match.expand(target)
                rest = name[match.end():]
                if prefix.endswith(('norm_current.', 'norm_previous.')):
                    converted['backbone.' + prefix + rest] = value
                else:
                    new = _rename_in_block(rest, prefix.startswith('streams.'), key)
                    converted['backbone.' + prefix + new] = value
                break
        else:
            raise KeyError(f'unexpected key in an official ParNet checkpoint: {key!r}')
    return converted


def main(argv=None):
    parser = argparse.ArgumentParser(description='Convert an official ParNet checkpoint.')
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output mmpretrain checkpoint')
    args = parser.parse_args(argv)
    state_dict = _unwrap(load_official_checkpoint(args.src))
    fused = is_fused(state_dict)
    layout = 'fused (build ParNet with deploy=True)' if fused else 'train-time'
    save_converted(convert(state_dict), args.dst, 'official ParNet', fused, layout)

if __name__ == '__main__':
    main()
