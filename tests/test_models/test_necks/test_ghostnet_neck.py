import pytest
import torch
import torch.nn as nn

from mmshallow.models.necks import GhostNetClsNeck


def test_neck_is_the_official_head_up_to_the_classifier():
    torch.manual_seed(0)
    neck = GhostNetClsNeck(16, act_cfg=dict(type='HSwish')).eval()
    assert neck.conv_head.out_channels == 1280 and neck.conv_head.bias is not None
    assert isinstance(neck.act, nn.Hardswish) and neck.dropout.p == 0.2
    feats = (torch.rand(2, 8, 6, 6), torch.rand(2, 16, 3, 3))
    (out, ) = neck(feats)
    expected = nn.functional.hardswish(neck.conv_head(feats[-1].mean((2, 3), keepdim=True)))
    assert out.shape == (2, 1280) and torch.allclose(out, expected.flatten(1))
    assert neck(feats[-1])[0].shape == (2, 1280)  # a bare tensor works too
    assert GhostNetClsNeck(16, 640, dropout=0.)(feats)[0].shape == (2, 640)


def test_neck_names_a_channel_mismatch():
    with pytest.raises(ValueError, match='built for in_channels=16 but got 8 channels'):
        GhostNetClsNeck(16)((torch.rand(1, 8, 2, 2), ))


def test_neck_with_mmpretrain_linear_head_classifies():
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    model = MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='mmshallow.ParameterNet', arch='ghostnet-1.0x'),
        neck=dict(type='mmshallow.GhostNetClsNeck', in_channels=960),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=1280,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 3, 64, 64), mode='tensor').shape == (2, 10)
