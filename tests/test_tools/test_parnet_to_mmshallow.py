import re

import pytest
import torch
import torch.nn as nn

import mmshallow
from mmshallow.models import ParNet
from mmshallow.testing import randomize_bn_statistics

# Our module path -> the official one (imankgoyal/NonDeepNetworks SimpNet): every block sits
# under '.block.', the fusion layers are Sequential(MultiBatchNorm2d(b1, b2), Concat2d, block).
OFFICIAL_MODULES = [
    (r'^inits\.0\.([01])\.', r'inits.0.\1.block.'),
    (r'^inits\.([12])\.', r'inits.\1.block.'),
    (r'^streams\.(\d)\.(\d+)\.', r'streams.\1.\2.block.'),
    (r'^downsamples\.0\.', 'downsamples_2.0.block.'),
    (r'^downsamples\.1\.norm_current\.', 'downsamples_2.1.0.b1.'),
    (r'^downsamples\.1\.norm_previous\.', 'downsamples_2.1.0.b2.'),
    (r'^downsamples\.1\.block\.', 'downsamples_2.1.2.block.'),
    (r'^final_fusion\.norm_current\.', 'combine.0.b1.'),
    (r'^final_fusion\.norm_previous\.', 'combine.0.b2.'),
    (r'^final_fusion\.block\.', 'combine.2.block.'),
    (r'^final_downsample\.', 'combine.3.block.'),
]
OFFICIAL_BLOCK = [('convs.branch_3x3.', 'rbr_dense.'), ('convs.branch_1x1.', 'rbr_1x1.'),
                  ('convs.fused_conv.', 'rbr_dense.'), ('branch_norm.', 'rbr_identity.'),
                  ('sse.', 'se.cvsig.conv.'), ('se.', 'se.cvsig.conv.')]


def official_layout(model, fc):
    official = {}
    for key, value in model.state_dict().items():
        for ours, theirs in OFFICIAL_MODULES:
            match = re.match(ours, key)
            if match:
                prefix, rest = match.expand(theirs), key[match.end():]
                break
        for ours, theirs in OFFICIAL_BLOCK:
            if rest.startswith(ours):
                rest = theirs + rest[len(ours):]
                break
        official[prefix + rest] = value
    official['head.fc.weight'], official['head.fc.bias'] = fc.weight, fc.bias
    return official


@pytest.mark.parametrize('fused', [False, True], ids=['train-time', 'fused'])
def test_official_layout_converts_and_loads_strictly(load_tool, tmp_path, fused):
    pytest.importorskip('mmpretrain')
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    backbone = randomize_bn_statistics(ParNet('s', act_cfg=dict(type='ReLU'))).eval()
    if fused:
        mmshallow.reparameterize(backbone)
    fc = nn.Linear(1280, 1000)
    official = official_layout(backbone, fc)
    keys = ['inits.0.1.block.se.cvsig.conv.weight', 'streams.2.4.block.rbr_identity.running_var',
            'downsamples_2.1.0.b2.weight', 'combine.3.block.se.cvsig.conv.weight']
    keys += (['combine.2.block.rbr_dense.bias', 'inits.1.block.rbr_dense.weight'] if fused else
             ['inits.1.block.rbr_1x1.1.conv.weight', 'combine.2.block.rbr_1x1.bn.bias',
              'streams.0.0.block.rbr_dense.conv.weight'])
    assert set(keys) <= set(official)

    converter = load_tool('model_converters/parnet_to_mmshallow')
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save({'state_dict_ema': official}, src)
    converter.main([str(src), str(dst)])
    converted = torch.load(dst)
    assert converted['meta']['deploy'] is fused

    init_default_scope('mmpretrain')
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='mmshallow.ParNet', arch='s', act_cfg=dict(type='ReLU'),
                      deploy=fused),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=1280))).eval()
    model.load_state_dict(converted['state_dict'], strict=True)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = fc(backbone(x)[-1].mean((2, 3)))
        assert torch.allclose(model(x, mode='tensor'), expected, atol=1e-5)


def test_unknown_key_is_rejected(load_tool):
    converter = load_tool('model_converters/parnet_to_mmshallow')
    with pytest.raises(KeyError, match="'streams.0.0.block.rbr_foo.weight'"):
        converter.convert({'streams.0.0.block.rbr_foo.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match="'stem.weight'"):
        converter.convert({'stem.weight': torch.zeros(1)})
