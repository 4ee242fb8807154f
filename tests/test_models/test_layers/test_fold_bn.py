import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmshallow import MODELS, reparameterize
from mmshallow.models.layers.fold_bn import ChannelAffine, fold_batchnorms
from mmshallow.testing import randomize_bn_statistics, relative_error


def test_channel_affine_is_the_eval_batchnorm():
    bn = randomize_bn_statistics(nn.BatchNorm2d(5)).eval()
    x = torch.randn(2, 5, 3, 4)
    assert relative_error(ChannelAffine.from_bn(bn)(x), bn(x)) < 1e-6


def test_folds_conv_modules_sequentials_and_standalone_norms_exactly():
    model = nn.Sequential(
        ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type='BN')),
        nn.Sequential(nn.Conv2d(8, 8, 1), nn.BatchNorm2d(8), nn.ReLU()),
        nn.BatchNorm2d(8),  # standalone: no conv before it in its container
        ConvModule(8, 4, 3, norm_cfg=dict(type='BN'), order=('norm', 'conv', 'act')),
    ).double()
    randomize_bn_statistics(model).eval()
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64)
    expected = model(x)
    fold_batchnorms(model)
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert sum(isinstance(m, ChannelAffine) for m in model.modules()) == 2  # 3rd and 4th
    assert relative_error(model(x), expected) < 1e-12


def test_parnet_after_reparameterize_has_no_batchnorm_left_and_same_outputs():
    model = MODELS.build(dict(type='mmshallow.ParNet', arch='s', out_indices=(1, 2, 3))).double()
    randomize_bn_statistics(model).eval()
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    expected = model(x)
    fold_batchnorms(reparameterize(model))
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert relative_error(model(x), expected) < 1e-9
