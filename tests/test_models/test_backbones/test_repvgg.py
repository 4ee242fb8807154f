import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmshallow.models import QARepVGG, RepVGG
from mmshallow.testing import randomize_bn_statistics, relative_error

# Official code (DingXiaoH/RepVGG), backbone + 1000-class FC.
DEPLOY_PARAMS = dict(
    A0=8_309_384, A1=12_789_864, A2=25_499_944, B0=14_339_048, B1=51_829_480,
    B1g2=41_360_104, B1g4=36_125_416, B2=80_315_112, B2g4=55_777_512, B3=110_960_872,
    B3g4=75_626_728, D2se=120_387_572)
# Train-time counts: A0 and B1 from the official code; the rest counted from its layer
# definitions (shared/reference/architectures.md, RepVGG table).
TRAIN_PARAMS = dict(
    A0=9_108_968, A1=14_092_264, A2=28_210_600, B0=15_817_960, B1=57_415_016,
    B1g2=45_782_376, B1g4=39_966_056, B2=89_022_376, B2g4=61_758_376, B3=123_085_288,
    B3g4=83_825_128, D2se=133_334_836)


def count_with_fc(backbone):
    fc = nn.Linear(backbone.out_channels[-1], 1000)
    return sum(p.numel() for p in [*backbone.parameters(), *fc.parameters()])


@pytest.mark.parametrize('arch', sorted(DEPLOY_PARAMS))
def test_deploy_param_count_equals_official(arch):
    assert count_with_fc(RepVGG(arch, deploy=True)) == DEPLOY_PARAMS[arch]


@pytest.mark.parametrize('arch', sorted(TRAIN_PARAMS))
def test_train_time_param_count_equals_official(arch):
    assert count_with_fc(RepVGG(arch)) == TRAIN_PARAMS[arch]


@pytest.mark.parametrize('arch', sorted(RepVGG.arch_settings))
def test_fused_backbone_matches_train_time_for_every_arch(arch):
    torch.manual_seed(0)
    model = randomize_bn_statistics(RepVGG(arch, out_indices=(0, 1, 2, 3))).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
        model.switch_to_deploy()
        fused = model(x)
    assert model.deploy
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert relative_error(fused, expected) <= 1e-5
    assert count_with_fc(model) == count_with_fc(RepVGG(arch, deploy=True))


def test_d2se_keeps_se_after_fusion():
    model = RepVGG('D2se', deploy=True)
    assert all(block.se_layer is not None for block in [model.stem, *model.stages[0]])


def test_group_layers_follow_the_official_even_layer_map():
    model = RepVGG('B1g4')
    groups = [block.groups for stage in model.stages for block in stage]
    assert model.stem.groups == 1
    assert groups == [4 if layer % 2 == 0 else 1 for layer in range(1, 28)]


def test_output_shapes_strides_and_order():
    model = RepVGG('A0', out_indices=(3, 0, -2)).eval()
    outs = model(torch.rand(2, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(2, 48, 16, 24), (2, 192, 4, 6), (2, 1280, 2, 3)]
    assert model.out_channels == [48, 96, 192, 1280]


def test_fused_state_dict_loads_strictly_into_deploy_build():
    model = randomize_bn_statistics(RepVGG('A0', out_indices=(2, 3))).eval()
    model.switch_to_deploy()
    deployed = RepVGG('A0', out_indices=(2, 3), deploy=True).eval()
    deployed.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(1, 3, 32, 32)
    for a, b in zip(deployed(x), model(x)):
        assert torch.equal(a, b)


def test_train_time_checkpoint_into_deploy_backbone_names_the_tool():
    state = RepVGG('A0').state_dict()
    with pytest.raises(RuntimeError, match='train-time .*tools/reparameterize.py'):
        RepVGG('A0', deploy=True).load_state_dict(state)
    deploy_state = RepVGG('A0', deploy=True).state_dict()
    with pytest.raises(RuntimeError, match='fused \\(deploy\\) weights'):
        RepVGG('A0').load_state_dict(deploy_state)


def test_with_cp_checkpoints_every_block_in_training_only(checkpoint_calls):
    model = RepVGG('A0', out_indices=(3, ), with_cp=True)
    model.train()
    out = model(torch.rand(2, 3, 32, 32, requires_grad=True))[0]
    blocks = [model.stem, *[block for stage in model.stages for block in stage]]
    assert checkpoint_calls == [block._inner_forward for block in blocks]
    out.mean().backward()
    assert model.stem.branch_3x3.conv.weight.grad is not None
    with torch.no_grad():
        model.eval()(torch.rand(1, 3, 32, 32))
    assert len(checkpoint_calls) == len(blocks)


def test_default_init_cfg_is_kaiming_fan_out_and_bn_one():
    torch.manual_seed(0)
    model = RepVGG('A0')
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(3)
    model.init_weights()
    conv = model.stages[2][1].branch_3x3.conv  # 3x3, 192 -> 192: std sqrt(2 / (9 * 192))
    assert conv.weight.std().item() == pytest.approx((2 / (9 * 192))**0.5, rel=0.05)
    assert all((m.weight == 1).all() for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_custom_arch_dict():
    arch = dict(num_blocks=[1, 1], width_factor=[0.5, 1], se_ratio=4)
    model = RepVGG(arch, out_indices=(0, 1)).eval()
    assert [o.shape[1] for o in model(torch.rand(1, 3, 32, 32))] == [32, 128]


def test_unknown_arch_lists_the_valid_ones():
    with pytest.raises(ValueError, match="arch 'C9' not in RepVGG archs: A0, A1, A2, B0"):
        RepVGG('C9')
    with pytest.raises(TypeError, match='num_blocks and width_factor'):
        RepVGG(dict(num_blocks=[1]))


def test_arch_dict_with_an_unknown_key_is_refused():
    """mmpretrain spells the grouped layers ``group_layer_map``; ignoring it would build an
    ungrouped model."""
    arch = dict(num_blocks=[1, 1], width_factor=[0.5, 1], group_layer_map={1: 2})
    with pytest.raises(TypeError, match='RepVGG arch dict has unknown key.s. group_layer_map: '
                                        'allowed num_blocks, width_factor, group_layers, '
                                        'se_ratio'):
        RepVGG(arch)
    arch = dict(num_blocks=[1, 1], width_factor=[0.5, 1], group_layers={2: 2})
    assert RepVGG(arch).stages[1][0].groups == 2


@pytest.mark.parametrize('cls', [RepVGG, QARepVGG])
def test_official_segmentation_setting_has_output_stride_8_and_fuses_exactly(cls):
    # DingXiaoH/RepVGG example_pspnet.py: the last two stages at stride 1, their 3x3 convs
    # dilated 2 and 4 (every block), the 1x1 convs only lose their stride
    torch.manual_seed(0)
    model = cls('A0', out_indices=(0, 1, 2, 3), strides=(2, 2, 1, 1), dilations=(1, 1, 2, 4))
    randomize_bn_statistics(model).eval()
    assert [b.branch_3x3.conv.dilation for b in model.stages[3]] == [(4, 4)]
    assert {b.branch_3x3.conv.dilation for b in model.stages[2]} == {(2, 2)}
    branch_1x1 = model.stages[2][0].branch_1x1  # a ConvBN in RepVGG, a bare conv in QARepVGG
    assert getattr(branch_1x1, 'conv', branch_1x1).stride == (1, 1)
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        expected = model(x)
        assert [tuple(o.shape[-2:]) for o in expected] == [(16, 24), (8, 12), (8, 12), (8, 12)]
        model.switch_to_deploy()
        assert relative_error(model(x), expected) <= 1e-5
    deployed = cls('A0', out_indices=(0, 1, 2, 3), strides=(2, 2, 1, 1), dilations=(1, 1, 2, 4),
                   deploy=True)
    deployed.load_state_dict(model.state_dict(), strict=True)
    # stride 1 and dilation change no parameter
    assert count_with_fc(deployed) == count_with_fc(RepVGG('A0', deploy=True))


@pytest.mark.parametrize('kwargs,message', [
    (dict(strides=(2, 2, 1)), r'strides must give 4 values \(one per stage\), each one of 1, 2'),
    (dict(strides=(2, 2, 3, 1)), r'strides must give 4 values .* got \(2, 2, 3, 1\)'),
    (dict(dilations=(1, 1, 0, 4)), r'dilations must give 4 values .* each an int >= 1'),
])
def test_bad_strides_or_dilations_are_refused_with_the_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RepVGG('A0', **kwargs)


def test_strides_and_dilations_follow_a_three_stage_arch():
    model = RepVGG(dict(num_blocks=[1, 1, 1], width_factor=[1, 1, 1]), strides=(2, 1, 2))
    assert model.strides == (2, 1, 2) and model.dilations == (1, 1, 1)
