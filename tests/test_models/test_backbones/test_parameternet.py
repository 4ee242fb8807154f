import logging
import re

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

import mmshallow
from mmshallow.models import GhostNetClsNeck, ParameterNet
from mmshallow.models.layers import DynamicConv2d, GhostBottleneck
from mmshallow.testing import randomize_bn_statistics, relative_error

ARCHS = ['ghostnet-1.0x', 'parameternet-300m', 'parameternet-600m']
# with the official head (conv_head 1x1 -> 1280 + 1000-class FC), train-time (with BN);
# derived from the official code's structure (a strict load of ours into a re-statement of
# it matches), against the published 5.2M (GhostNet) and 34.5M (ParameterNet-600M, derived)
PARAMS = {'ghostnet-1.0x': 5_182_508, 'parameternet-300m': 18_161_864,
          'parameternet-600m': 34_504_504}
PUBLISHED_PARAMS = {'ghostnet-1.0x': 5.18e6, 'parameternet-600m': 34.50e6}
# MACs at 224: convs + FC (official GhostNet 141M; ParameterNet-600M 570M derived, "600M"),
# and the dynamic convs' kernel mixing (one matmul per conv) on top
CONV_FC_MACS = {'ghostnet-1.0x': 141e6, 'parameternet-300m': 287e6, 'parameternet-600m': 570e6}
MIXING_MACS = {'ghostnet-1.0x': 0, 'parameternet-300m': 9.6e6, 'parameternet-600m': 19.4e6}
STRIDES = [2, 4, 4, 8, 8, 16, 16, 32, 32, 32]


class Classifier(nn.Module):
    """backbone -> the official head (GhostNetClsNeck + FC)."""

    def __init__(self, arch, **kwargs):
        super().__init__()
        self.backbone = ParameterNet(arch, **kwargs)
        self.neck = GhostNetClsNeck(self.backbone.out_channels[-1],
                                    act_cfg=self.backbone.arch['act_cfg'])
        self.fc = nn.Linear(1280, 1000)

    def forward(self, x):
        return self.fc(self.neck(self.backbone(x))[0])


def count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize('arch', ARCHS)
def test_params_with_the_official_head(arch):
    with torch.device('meta'):
        model = Classifier(arch)
    assert count(model) == PARAMS[arch]
    if arch in PUBLISHED_PARAMS:
        assert count(model) == pytest.approx(PUBLISHED_PARAMS[arch], rel=0.005)


def test_parameternet_600m_without_experts_is_its_static_ghostnet():
    static_arch = dict(ParameterNet.arch_settings['parameternet-600m'], num_experts=None)
    with torch.device('meta'):
        static = Classifier(static_arch)
        one, two = (Classifier('parameternet-600m', num_experts=m) for m in (1, 2))
    assert not any(isinstance(m, DynamicConv2d) for m in static.modules())
    assert count(static) == 19_822_198  # the reference's 19.82M
    # one expert: the static convs' kernels plus the gates; every expert adds the same
    routing = sum(count(m.routing) for m in one.modules() if isinstance(m, DynamicConv2d))
    assert count(one) == count(static) + routing
    assert PARAMS['parameternet-600m'] - count(two) == 2 * (count(two) - count(one))


@pytest.mark.parametrize('arch', ARCHS)
def test_macs_match_the_official(arch):
    from mmengine.analysis import FlopAnalyzer
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # per-op "unsupported" notes
    with torch.device('meta'):
        model = Classifier(arch, deploy=True)
    model = model.to_empty(device='cpu').eval()  # MACs do not depend on the values
    for param in model.parameters():
        param.data.zero_()
    analyzer = FlopAnalyzer(model, (torch.zeros(1, 3, 224, 224), ))
    analyzer.unsupported_ops_warnings(False)
    by_op = analyzer.by_operator()
    # the conv count sees only the conv with the mixed kernel; the gates' FCs (in 'linear'
    # with the classifier), the mixing ('matmul') and the pools are counted apart
    assert by_op['conv'] + 1280 * 1000 == pytest.approx(CONV_FC_MACS[arch], rel=0.03)
    assert by_op.get('matmul', 0) == pytest.approx(MIXING_MACS[arch], rel=0.03)
    if arch == 'parameternet-600m':
        assert analyzer.total() == pytest.approx(600e6, rel=0.03)


@pytest.mark.parametrize('arch', ARCHS)
def test_fused_equals_unfused(arch):
    torch.manual_seed(0)
    model = randomize_bn_statistics(
        ParameterNet(arch, out_indices=(2, 4, 6, 9), drop_path_rate=0.1)).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected, expected_one = model(x), model(x[:1])
        mmshallow.reparameterize(model)
        assert relative_error(model(x), expected) <= 1e-5
        assert relative_error(model(x[:1]), expected_one) <= 1e-5
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    dynamic = [m for m in model.modules() if isinstance(m, DynamicConv2d)]
    assert all(m.deploy for m in dynamic) and len(dynamic) == (0 if arch == 'ghostnet-1.0x'
                                                               else 1 + 4 * 19 + 2 * 5 + 1)
    deployed = ParameterNet(arch, out_indices=(2, 4, 6, 9), deploy=True).eval()
    deployed.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert relative_error(deployed(x), expected) <= 1e-5


def test_out_indices_strides_and_channels():
    with torch.device('meta'):
        model = ParameterNet('parameternet-600m', out_indices=tuple(range(10)))
        outs = model(torch.empty(2, 3, 224, 320))
    assert [224 // o.shape[2] for o in outs] == [320 // o.shape[3] for o in outs] == STRIDES
    assert [o.shape[1] for o in outs] == model.out_channels == [
        32, 44, 44, 76, 76, 152, 212, 304, 304, 1824]
    with torch.device('meta'):
        ghost = ParameterNet('ghostnet-1.0x', out_indices=(2, 4, 6, -1))
        outs = ghost(torch.empty(1, 3, 224, 224))
    # detection taps: strides 4, 8, 16, 32
    assert [tuple(o.shape[1:]) for o in outs] == [(24, 56, 56), (40, 28, 28), (112, 14, 14),
                                                  (960, 7, 7)]
    assert ghost.out_indices == (2, 4, 6, 9)


def test_layout_follows_the_official_tables():
    with torch.device('meta'):
        ghost = ParameterNet('ghostnet-1.0x')
        para = ParameterNet('parameternet-600m')
    assert [len(s) for s in ghost.stages] == [1, 1, 1, 1, 1, 1, 5, 1, 4, 2]
    assert [len(s) for s in para.stages] == [1, 1, 1, 1, 2, 1, 6, 1, 5, 2]
    assert isinstance(ghost.stem.act, nn.ReLU) and isinstance(para.stem.act, nn.Hardswish)
    se = [b.se for b in para.modules() if isinstance(b, GhostBottleneck) and b.se is not None]
    assert len(se) == 12 and all(isinstance(s.act, nn.Hardswish) for s in se)
    assert para.stem.conv.conv.num_experts == 4 and para.stem.conv.conv.gate == 'sigmoid'
    assert isinstance(para.stages[9].conv.conv, DynamicConv2d)
    assert not any(isinstance(m, DynamicConv2d) for m in ghost.modules())
    with torch.device('meta'):
        soft = ParameterNet('ghostnet-1.0x', num_experts=2, gate='softmax')
    assert soft.stages[9].conv.conv.num_experts == 2 and soft.stages[9].conv.conv.gate == \
        'softmax'


def test_custom_arch_dict():
    arch = dict(blocks=[[[3, 16, 8, 0, 1]], [[3, 24, 16, 0.25, 2], [5, 32, 16, 0, 1]]],
                width=1.0, num_experts=2)
    model = ParameterNet(arch, out_indices=(0, 1, 2)).eval()
    outs = model(torch.rand(2, 3, 32, 32))
    assert [tuple(o.shape[1:]) for o in outs] == [(8, 16, 16), (16, 8, 8), (32, 8, 8)]


def test_widen_factor_overrides_the_arch_width():
    with torch.device('meta'):
        small = ParameterNet('parameternet-300m', widen_factor=0.5)
        explicit = ParameterNet(dict(ParameterNet.arch_settings['parameternet-300m'], width=0.5))
    assert small.arch['width'] == 0.5 and small.num_experts == 4
    assert small.out_channels == explicit.out_channels
    assert small.out_channels[-1] == 480      # make_divisible(960 * 0.5, 4)
    for bad in (0, -0.5, True, '0.5'):
        with pytest.raises(ValueError, match=rf'widen_factor must be a number > 0 or None .* '
                                             rf'got {re.escape(repr(bad))}'):
            ParameterNet('parameternet-300m', widen_factor=bad)


def test_bad_arguments():
    with pytest.raises(ValueError, match="arch 'ghostnet-2x' not in ParameterNet archs: "
                                         'ghostnet-1.0x, parameternet-300m, parameternet-600m'):
        ParameterNet('ghostnet-2x')
    with pytest.raises(TypeError, match='a dict with blocks and width'):
        ParameterNet(dict(blocks=[[[3, 16, 16, 0, 1]]]))
    with pytest.raises(ValueError, match=r'rows \[dw kernel, expanded, out, se_ratio, stride\]'):
        ParameterNet(dict(blocks=[[[3, 16, 16, 0]]], width=1.0))
    with pytest.raises(TypeError, match='ParameterNet arch dict has unknown key.s. se_ratio: '
                                        'allowed blocks, width, act_cfg, num_experts, '
                                        'stem_channels'):
        ParameterNet(dict(blocks=[[[3, 16, 16, 0, 1]]], width=1.0, se_ratio=0.25))
    with torch.device('meta'):
        for bad in (0, -1, 2.0, True):
            with pytest.raises(ValueError, match=rf"num_experts {bad!r} is not allowed: use None "
                                                 "for the arch's default .* or an int >= 1"):
                ParameterNet('parameternet-600m', num_experts=bad)
        with pytest.raises(ValueError, match='num_experts 0 is not allowed: use None for static '
                                             'convs'):
            ParameterNet(dict(ParameterNet.arch_settings['ghostnet-1.0x'], num_experts=0))
        with pytest.raises(ValueError, match="gate 'relu' not in DynamicConv2d gates"):
            ParameterNet('parameternet-600m', gate='relu')
