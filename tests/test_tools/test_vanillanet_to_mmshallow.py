import argparse
import re

import pytest
import torch
import torch.nn as nn

import mmshallow
from mmshallow.models import VanillaNet, VanillaNetClassifier
from mmshallow.testing import randomize_bn_statistics

# A small VanillaNet (3 stages); the key layout does not depend on the widths.
ARCH = dict(dims=[16, 32, 32, 64], strides=[2, 1, 2])
NUM_CLASSES = 10

# Our key -> the official one (huawei-noah/VanillaNet models/vanillanet.py): train-time
# stem1 = (conv, BN), stem2 = (conv, BN, activation), cls1 = (pool, dropout, conv, BN),
# cls2 = (conv, ); Block.conv1/conv2 = (conv, BN); activation = bare weight + bn.
OFFICIAL_TRAIN = [
    (r'^backbone\.stem\.conv1\.conv\.', 'stem1.0.'), (r'^backbone\.stem\.conv1\.bn\.', 'stem1.1.'),
    (r'^backbone\.stem\.conv2\.conv\.', 'stem2.0.'), (r'^backbone\.stem\.conv2\.bn\.', 'stem2.1.'),
    (r'^backbone\.stem\.act\.', 'stem2.2.'),
    (r'^backbone\.stages\.(\d+)\.conv([12])\.conv\.', r'stages.\1.conv\2.0.'),
    (r'^backbone\.stages\.(\d+)\.conv([12])\.bn\.', r'stages.\1.conv\2.1.'),
    (r'^backbone\.stages\.(\d+)\.act\.', r'stages.\1.act.'),
    (r'^neck\.conv1\.conv\.', 'cls1.2.'), (r'^neck\.conv1\.bn\.', 'cls1.3.'),
    (r'^neck\.conv2\.', 'cls2.0.'),
]
# after the official switch_to_deploy: stem = (conv, activation), cls = (pool, dropout, conv)
OFFICIAL_DEPLOY = [
    (r'^backbone\.stem\.fused_conv\.', 'stem.0.'),
    (r'^backbone\.stem\.act\.fused_conv\.', 'stem.1.'),
    (r'^backbone\.stages\.(\d+)\.fused_conv\.', r'stages.\1.conv.'),
    (r'^backbone\.stages\.(\d+)\.act\.fused_conv\.', r'stages.\1.act.'),
    (r'^neck\.fused_conv\.', 'cls.2.'),
]


def official_layout(model, fused):
    official = {}
    for key, value in model.state_dict().items():
        if key.endswith('act_lambda'):  # official act_learn is a plain attribute
            continue
        for ours, theirs in OFFICIAL_DEPLOY if fused else OFFICIAL_TRAIN:
            if re.match(ours, key):
                official[re.sub(ours, theirs, key)] = value
                break
        else:
            raise AssertionError(f'no official name for {key}')
    return official


class Ours(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = VanillaNet(ARCH)
        self.neck = VanillaNetClassifier(64, NUM_CLASSES)


@pytest.mark.parametrize('field', ['model', 'model_ema'])
@pytest.mark.parametrize('fused', [False, True], ids=['train-time', 'fused'])
def test_official_layout_converts_and_loads_strictly(load_tool, tmp_path, fused, field):
    pytest.importorskip('mmpretrain')
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    ours = randomize_bn_statistics(Ours()).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        expected = ours.neck(ours.backbone(x))[0]
    if fused:
        mmshallow.reparameterize(ours)
    official = official_layout(ours, fused)
    keys = (['stem.0.weight', 'stem.1.weight', 'stem.1.bias', 'stages.2.conv.bias',
             'stages.0.act.weight', 'stages.0.act.bias', 'cls.2.weight'] if fused else
            ['stem1.0.weight', 'stem1.1.running_var', 'stem2.0.bias', 'stem2.1.weight',
             'stem2.2.weight', 'stem2.2.bn.running_mean', 'stages.1.conv1.0.weight',
             'stages.1.conv1.1.num_batches_tracked', 'stages.2.conv2.0.bias',
             'stages.2.conv2.1.weight', 'stages.0.act.weight', 'stages.0.act.bn.bias',
             'cls1.2.weight', 'cls1.3.running_var', 'cls2.0.weight', 'cls2.0.bias'])
    assert set(keys) <= set(official)

    converter = load_tool('model_converters/vanillanet_to_mmshallow')
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    # official main.py checkpoints also hold the argparse Namespace of the run
    torch.save({field: official, 'epoch': 299, 'args': argparse.Namespace(model='x')}, src)
    converter.main([str(src), str(dst)])
    converted = torch.load(dst)
    assert converted['meta']['deploy'] is fused
    if not fused:
        assert converted['state_dict']['backbone.stages.2.act_lambda'] == 1.0

    init_default_scope('mmpretrain')
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='mmshallow.VanillaNet', arch=ARCH, deploy=fused),
        neck=dict(type='mmshallow.VanillaNetClassifier', in_channels=64, num_classes=NUM_CLASSES,
                  deploy=fused),
        head=dict(type='ClsHead', loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
                  topk=(1, 5)))).eval()
    model.load_state_dict(converted['state_dict'], strict=True)
    with torch.no_grad():
        assert torch.allclose(model(x, mode='tensor'), expected, atol=1e-5)
        scores = model(x, mode='predict')[0].pred_score
    assert scores.shape == (NUM_CLASSES, )


def test_full_size_layout_converts_to_our_keys(load_tool):
    converter = load_tool('model_converters/vanillanet_to_mmshallow')
    with torch.device('meta'):
        ours = Ours()
        ours.backbone = VanillaNet('13')
        ours.neck = VanillaNetClassifier(4096, 1000)
    official = official_layout(ours, fused=False)
    assert len([k for k in official if k.endswith('act.weight')]) == 11
    assert set(converter.convert({'model': official})) == set(ours.state_dict())


def test_key_option_picks_the_ema_weights(load_tool, tmp_path, capsys):
    converter = load_tool('model_converters/vanillanet_to_mmshallow')
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    model, ema = {'cls2.0.bias': torch.zeros(2)}, {'cls2.0.bias': torch.ones(2)}
    torch.save({'model': model, 'model_ema': ema}, src)
    converter.main([str(src), str(dst)])
    assert torch.load(dst)['state_dict']['neck.conv2.bias'].sum() == 0
    converter.main([str(src), str(dst), '--key', 'model_ema'])
    assert torch.load(dst)['state_dict']['neck.conv2.bias'].sum() == 2
    torch.save({'model': model}, src)
    with pytest.raises(SystemExit):
        converter.main([str(src), str(dst), '--key', 'model_ema'])
    assert "has no 'model_ema'; it holds: model" in capsys.readouterr().err


def test_unknown_key_is_rejected(load_tool):
    converter = load_tool('model_converters/vanillanet_to_mmshallow')
    with pytest.raises(KeyError, match="'stages.0.conv3.0.weight'"):
        converter.convert({'stages.0.conv3.0.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match=r"train-time layout\): 'head.weight'"):
        converter.convert({'model': {'stem1.0.weight': torch.zeros(1), 'head.weight': 0}})
    with pytest.raises(KeyError, match=r"deploy layout\): 'stem1.0.weight'"):
        converter.convert({'stem.0.weight': torch.zeros(1), 'stem1.0.weight': torch.zeros(1)})
