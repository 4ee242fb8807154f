import pytest
import torch

import mmshallow
from mmshallow.models import ParNet, ParNetDownsampleNeck, ParNetFusionNeck
from mmshallow.testing import randomize_bn_statistics, relative_error


def features(channels=(16, 32, 64), size=(64, 48)):
    h, w = size
    return [torch.randn(2, c, h // 2**i, w // 2**i) for i, c in enumerate(channels)]


@pytest.mark.parametrize('channels', [(16, 32), (16, 32, 64), (8, 16, 32, 64)])
def test_fusion_neck_levels_shapes_and_exact_fusion(channels):
    torch.manual_seed(0)
    neck = randomize_bn_statistics(ParNetFusionNeck(channels, 24)).eval()
    inputs = features(channels)
    with torch.no_grad():
        expected = neck(inputs)
        assert [tuple(o.shape) for o in expected] == [(2, 24, *x.shape[-2:]) for x in inputs]
        neck.switch_to_deploy()
        assert neck.deploy and all(m.deploy for m in neck.modules() if hasattr(m, 'fused_name'))
        assert relative_error(neck(inputs), expected) <= 1e-5
    deployed = ParNetFusionNeck(channels, 24, deploy=True).eval()
    deployed.load_state_dict(neck.state_dict(), strict=True)


def test_fusion_neck_handles_odd_coarse_maps():
    neck = ParNetFusionNeck((8, 16, 32), 8).eval()
    inputs = [torch.randn(1, 8, 20, 26), torch.randn(1, 16, 10, 13), torch.randn(1, 32, 5, 7)]
    with pytest.raises(ValueError, match='needs even sizes'):
        neck(inputs)  # bottom-up downsampling of a 10x13 map
    inputs = [torch.randn(1, 8, 20, 28), torch.randn(1, 16, 10, 14), torch.randn(1, 32, 5, 7)]
    assert [o.shape[-1] for o in neck(inputs)] == [28, 14, 7]


def test_downsample_neck_adds_levels_and_fuses_exactly():
    torch.manual_seed(0)
    neck = randomize_bn_statistics(ParNetDownsampleNeck([16, 16, 16], num_outs=5)).eval()
    inputs = features((16, 16, 16), size=(40, 24))
    with torch.no_grad():
        expected = neck(inputs)
        assert [o.shape[-2:] for o in expected][3:] == [(5, 3), (3, 2)]  # padded to even
        assert all(o is x for o, x in zip(expected, inputs))
        mmshallow.reparameterize(neck)
        assert relative_error(neck(inputs), expected) <= 1e-5
    assert ParNetDownsampleNeck([8, 16], 3, out_channels=4)(features((8, 16)))[-1].shape[1] == 4


def test_backbone_and_necks_fuse_together():
    torch.manual_seed(0)
    backbone = randomize_bn_statistics(ParNet('s', out_indices=(1, 2, 3))).eval()
    neck = randomize_bn_statistics(ParNetFusionNeck(backbone.out_channels[1:], 32)).eval()
    extra = randomize_bn_statistics(ParNetDownsampleNeck([32] * 3, 5)).eval()
    model = torch.nn.Sequential(backbone, neck, extra)
    x = torch.randn(1, 3, 128, 96)
    with torch.no_grad():
        expected = model(x)
        mmshallow.reparameterize(model)
        assert relative_error(model(x), expected) <= 1e-5


def test_in_channels_not_matching_the_backbone_is_a_clear_error():
    neck = ParNetFusionNeck((16, 32, 64), 8)
    with pytest.raises(ValueError, match=r'built for in_channels=\[16, 32, 64\] but got 3 '
                                         r'inputs with channels \[16, 32, 128\]'):
        neck(features((16, 32, 128)))
    with pytest.raises(ValueError, match='at least 2 input levels'):
        ParNetFusionNeck((16, ), 8)
    with pytest.raises(ValueError, match='num_outs 2 < the number of inputs 3'):
        ParNetDownsampleNeck([8, 8, 8], num_outs=2)
    with pytest.raises(ValueError, match='in_channels'):
        ParNetDownsampleNeck([8, 8], num_outs=3)(features((8, 16)))
