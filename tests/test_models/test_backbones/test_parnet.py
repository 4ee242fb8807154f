import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

import mmshallow
from mmshallow.models import ParNet
from mmshallow.models.layers import ParNetDownsampleBlock, ParNetFusionBlock, RepVGGSSEBlock
from mmshallow.models.layers.parnet_blocks import _TwoBranchConv, channel_shuffle, interleave
from mmshallow.testing import randomize_bn_statistics, relative_error

# Official code (imankgoyal/NonDeepNetworks SimpNet), backbone + 1000-class FC.
TRAIN_PARAMS = dict(s=20_930_936, m=38_953_256, l=60_180_008, xl=93_176_168)
FUSED_PARAMS = dict(s=19_128_980, m=35_576_616, l=54_914_824, xl=84_962_784)


def count_with_fc(backbone):
    fc = nn.Linear(backbone.out_channels[-1], 1000)
    return sum(p.numel() for p in [*backbone.parameters(), *fc.parameters()])


@pytest.mark.parametrize('arch', ['s', 'm', 'l', 'xl'])
def test_param_counts_equal_official(arch):
    assert count_with_fc(ParNet(arch)) == TRAIN_PARAMS[arch]
    assert count_with_fc(ParNet(arch, deploy=True)) == FUSED_PARAMS[arch]


def test_paper_params_are_the_fused_counts():
    # paper Table: ParNet-M/L/XL 35.6 / 54.9 / 85.0 M
    assert [round(FUSED_PARAMS[a] / 1e6, 1) for a in ('m', 'l', 'xl')] == [35.6, 54.9, 85.0]


@pytest.mark.parametrize('arch', ['s', 'm', 'l', 'xl'])
def test_fused_matches_train_time(arch):
    torch.manual_seed(0)
    model = randomize_bn_statistics(ParNet(arch, out_indices=(0, 1, 2, 3))).eval()
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        expected = model(x)
        mmshallow.reparameterize(model)
        fused = model(x)
    assert relative_error(fused, expected) <= 1e-5
    # what stays: identity BNs, the pre-fusion BNs; no 3x3/1x1 branch BNs
    assert not hasattr(model.streams[0][0].convs, 'branch_3x3')
    assert sum(isinstance(m, _BatchNorm) for m in model.modules()) == sum(
        len(s) for s in model.streams) + 4
    deployed = ParNet(arch, out_indices=(0, 1, 2, 3), deploy=True).eval()
    deployed.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        assert relative_error(deployed(x), expected) <= 1e-5


def test_outputs_strides_channels_and_depth_layout():
    model = ParNet('s', out_indices=(3, 1, 0, 2)).eval()
    outs = model(torch.rand(2, 3, 128, 64))
    assert [tuple(o.shape) for o in outs] == [(2, 92, 32, 16), (2, 192, 16, 8), (2, 384, 8, 4),
                                              (2, 1280, 4, 2)]
    assert [len(s) for s in model.streams] == [4, 5, 5]
    # depth 12: 2 + 1 + 1 inits, 5 stream-2 blocks, final fusion, final downsampling, FC
    assert len(model.inits[0]) + 2 + len(model.streams[2]) + 2 + 1 == 12


def test_default_activation_is_silu_and_relu_is_configurable():
    assert isinstance(ParNet('s').streams[0][0].act, nn.SiLU)
    assert isinstance(ParNet('s', act_cfg=dict(type='ReLU')).streams[0][0].act, nn.ReLU)


def test_cifar_variant_keeps_32x32_inputs_at_full_resolution_in_stream_0():
    model = ParNet('cifar', out_indices=(0, 1, 2, 3)).eval()
    outs = model(torch.rand(1, 3, 32, 32))
    assert [o.shape[-1] for o in outs] == [32, 16, 8, 4]
    assert [o.shape[1] for o in outs] == [92, 192, 384, 1280]
    # same weights as ParNet-S: only the strides of the two stem blocks differ
    assert count_with_fc(model) == TRAIN_PARAMS['s']
    with pytest.raises(ValueError, match='not divisible by 8'):
        model(torch.rand(1, 3, 36, 36))


def test_sse_block_gates_the_bned_skip():
    torch.manual_seed(0)
    block = randomize_bn_statistics(RepVGGSSEBlock(8, act_cfg=dict(type='ReLU'))).eval()
    x = torch.randn(2, 8, 6, 6)
    convs = block.convs
    skip = block.branch_norm(x)
    gate = torch.sigmoid(block.sse(skip.mean((2, 3), keepdim=True)))
    expected = torch.relu(convs.branch_3x3(x) + convs.branch_1x1(x) + skip * gate)
    assert torch.allclose(block(x), expected)


def test_downsample_block_scales_by_twice_the_sigmoid_and_avg_pools_the_1x1():
    torch.manual_seed(0)
    block = randomize_bn_statistics(ParNetDownsampleBlock(4, 6, act_cfg=dict(type='ReLU')))
    block.eval()
    x = torch.randn(2, 4, 8, 8)
    convs = block.convs
    one = convs.branch_1x1[1](nn.functional.avg_pool2d(x, 2))
    gate = 2 * torch.sigmoid(block.se(x.mean((2, 3), keepdim=True)))
    assert torch.allclose(block(x), torch.relu((convs.branch_3x3(x) + one) * gate))


def test_fusion_block_interleaves_and_shuffles():
    a, b = torch.arange(3.).view(1, 3, 1, 1), 10 + torch.arange(3.).view(1, 3, 1, 1)
    assert interleave(a, b).flatten().tolist() == [0, 10, 1, 11, 2, 12]
    x = torch.arange(6.).view(1, 6, 1, 1)
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    block = ParNetFusionBlock(4, 8)
    assert block.block.groups == 2 and block.block.se.groups == 2
    with pytest.raises(ValueError, match='inputs differ in shape'):
        block(torch.rand(1, 4, 8, 8), torch.rand(1, 4, 4, 4))


BLOCK_CASES = [(RepVGGSSEBlock, (8, )), (ParNetDownsampleBlock, (8, 16)),
               (ParNetDownsampleBlock, (8, 16, 1, 2)), (ParNetFusionBlock, (8, 16, 2)),
               (ParNetFusionBlock, (8, 8, 1))]


@pytest.mark.parametrize('cls,args', BLOCK_CASES)
def test_every_block_fuses_exactly(cls, args):
    torch.manual_seed(0)
    block = randomize_bn_statistics(cls(*args)).eval()
    inputs = (torch.randn(2, 8, 16, 12), ) * (2 if cls is ParNetFusionBlock else 1)
    with torch.no_grad():
        expected = block(*inputs)
        mmshallow.reparameterize(block)
        assert relative_error(block(*inputs), expected) <= 1e-5


@pytest.mark.parametrize('cls,args', BLOCK_CASES)
def test_every_block_switch_to_deploy_fuses_in_place_once(cls, args):
    torch.manual_seed(0)
    block = randomize_bn_statistics(cls(*args)).eval()
    inputs = (torch.randn(2, 8, 16, 12), ) * (2 if cls is ParNetFusionBlock else 1)
    assert block.deploy is False
    with torch.no_grad():
        expected = block(*inputs)
        block.switch_to_deploy()
        assert block.deploy is True
        assert relative_error(block(*inputs), expected) <= 1e-5
    assert all(p.is_contiguous() for p in block.parameters())
    deployed = cls(*args, deploy=True)
    assert deployed.deploy is True
    assert block.state_dict().keys() == deployed.state_dict().keys()
    state = {k: v.clone() for k, v in block.state_dict().items()}
    block.switch_to_deploy()
    mmshallow.reparameterize(block)
    assert block.deploy is True and state.keys() == block.state_dict().keys()
    assert all(torch.equal(v, block.state_dict()[k]) for k, v in state.items())


def test_reparameterize_fuses_every_parnet_block_exactly_once(monkeypatch):
    calls, original = [], _TwoBranchConv._fuse

    def counting_fuse(self):
        calls.append(self)
        original(self)

    monkeypatch.setattr(_TwoBranchConv, '_fuse', counting_fuse)
    model = ParNet('s').eval()
    two_branch = [m for m in model.modules() if isinstance(m, _TwoBranchConv)]
    mmshallow.reparameterize(model)
    assert len(calls) == len(two_branch) == len({id(m) for m in calls})
    blocks = [m for m in model.modules()
              if isinstance(m, (RepVGGSSEBlock, ParNetDownsampleBlock, ParNetFusionBlock))]
    assert blocks and all(b.deploy for b in blocks)


def test_input_not_divisible_by_32_is_a_clear_error():
    with pytest.raises(ValueError, match='ParNet input size 48x64 is not divisible by 32'):
        ParNet('s')(torch.rand(1, 3, 48, 64))
    block = ParNetDownsampleBlock(4, 4)
    with pytest.raises(ValueError, match='needs even sizes'):
        block(torch.rand(1, 4, 7, 8))


def test_bad_arch():
    with pytest.raises(ValueError, match="arch 'xxl' not in ParNet archs: s, m, l, xl, cifar"):
        ParNet('xxl')
    with pytest.raises(ValueError, match='4 channels and 3 stream depths'):
        ParNet(dict(channels=(8, 16, 32)))
    with pytest.raises(TypeError, match='ParNet arch dict has unknown key.s. depths: allowed '
                                        'channels, num_blocks, stem_strides'):
        ParNet(dict(channels=(8, 16, 32, 64), depths=(1, 1, 1)))


def test_train_time_weights_into_deploy_model_names_the_tool():
    with pytest.raises(RuntimeError, match='tools/reparameterize.py'):
        ParNet('s', deploy=True).load_state_dict(ParNet('s').state_dict())
