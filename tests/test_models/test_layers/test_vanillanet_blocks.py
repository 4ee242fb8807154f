import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import mmshallow
from mmshallow.models.layers import SeriesActivation, VanillaBlock, VanillaStem, set_act_lambda
from mmshallow.models.necks import VanillaNetClassifier
from mmshallow.testing import randomize_bn_statistics, relative_error


def fused_matches(module, *inputs):
    with torch.no_grad():
        expected = module(*inputs)
        mmshallow.reparameterize(module)
        return relative_error(module(*inputs), expected)


@pytest.mark.parametrize('act_num', [0, 1, 3, 4])
def test_series_activation_is_bn_of_a_biasless_depthwise_conv_and_fuses_exactly(act_num):
    torch.manual_seed(0)
    act = randomize_bn_statistics(SeriesActivation(6, act_num)).eval()
    k = 2 * act_num + 1
    assert act.weight.shape == (6, 1, k, k)
    assert act.bn.eps == 1e-6
    assert not any(isinstance(m, nn.Conv2d) for m in act.modules())  # bare kernel, no bias
    x = torch.randn(2, 6, 9, 11)
    expected = act.bn(F.conv2d(torch.relu(x), act.weight, padding=act_num, groups=6))
    assert torch.allclose(act(x), expected)
    assert fused_matches(act, x) <= 1e-5
    conv = act.fused_conv
    assert (conv.groups, conv.padding, conv.kernel_size, conv.bias.shape) == (
        6, (act_num, act_num), (k, k), (6, ))
    assert not hasattr(act, 'bn') and not hasattr(act, 'weight')


@pytest.mark.parametrize('act_num', [-1, 1.5, True])
def test_series_activation_rejects_a_bad_act_num(act_num):
    with pytest.raises(ValueError, match=rf'act_num {act_num!r} is not allowed: .*int >= 0'):
        SeriesActivation(4, act_num)


def make(kind):
    torch.manual_seed(0)
    if kind == 'block':
        return VanillaBlock(6, 10, act_num=2, stride=2), torch.randn(2, 6, 12, 10)
    if kind == 'block-ada':
        return VanillaBlock(6, 10, act_num=1, stride=2, ada_pool=4), torch.randn(2, 6, 7, 7)
    if kind == 'stem':
        return VanillaStem(3, 8, act_num=1), torch.randn(2, 3, 17, 16)
    if kind == 'stem-ada':
        return VanillaStem(3, 8, stride=3, padding=1), torch.randn(2, 3, 23, 23)
    return VanillaNetClassifier(12, 7), (torch.randn(2, 12, 3, 3), )


KINDS = ['block', 'block-ada', 'stem', 'stem-ada', 'classifier']


@pytest.mark.parametrize('kind', KINDS)
def test_fuses_exactly_at_lambda_one(kind):
    module, x = make(kind)
    module = randomize_bn_statistics(module).eval()
    assert float(module.act_lambda) == 1.0
    assert fused_matches(module, x) <= 1e-5
    assert module.deploy and not hasattr(module, 'conv1') and not hasattr(module, 'act_lambda')
    assert getattr(module, 'act', module).deploy


@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('lam', [0.0, 0.5, 0.99])
def test_refuses_to_fuse_before_lambda_reached_one(kind, lam):
    module, x = make(kind)
    module.eval()
    assert set_act_lambda(module, lam) == 1
    with torch.no_grad():
        before = module(x)
    with pytest.raises(RuntimeError, match=rf'λ \(act_lambda\) is {lam:g}, not 1.*'
                                           r'not linear yet.*DeepTrainingHook'):
        mmshallow.reparameterize(module)
    # nothing was fused, not even the series activation
    assert not module.deploy and not getattr(module, 'act', module).deploy
    with torch.no_grad():
        assert relative_error(module(x), before) == 0


def test_deep_training_activation_is_leaky_relu_with_slope_lambda():
    torch.manual_seed(0)
    block = randomize_bn_statistics(VanillaBlock(4, 4)).eval()
    x = torch.randn(1, 4, 5, 5)
    for lam in (0.0, 0.3, 1.0):
        set_act_lambda(block, lam)
        hidden = block.conv1(x)
        expected = block.act(block.conv2((1 - lam) * torch.relu(hidden) + lam * hidden))
        with torch.no_grad():
            assert torch.allclose(block(x), expected, atol=1e-6)
            assert torch.allclose(block.conv2(F.leaky_relu(hidden, lam)),
                                  block.conv2((1 - lam) * torch.relu(hidden) + lam * hidden),
                                  atol=1e-6)


def test_lambda_is_a_persistent_float_buffer_in_the_state_dict():
    block = VanillaBlock(4, 8)
    assert 'act_lambda' in dict(block.named_buffers())
    state = block.state_dict()
    assert state['act_lambda'].dtype == torch.float32 and float(state['act_lambda']) == 1.0
    set_act_lambda(block, 0.25)
    other = VanillaBlock(4, 8)
    other.load_state_dict(block.state_dict())
    assert float(other.act_lambda) == 0.25
    assert 'act_lambda' in VanillaStem(3, 4).state_dict()
    assert 'act_lambda' in VanillaNetClassifier(4, 3).state_dict()
    # the deploy structure has no λ
    assert 'act_lambda' not in VanillaBlock(4, 8, deploy=True).state_dict()


def test_set_act_lambda_reaches_every_module_and_validates():
    model = nn.Sequential(VanillaStem(3, 4), nn.ModuleList([VanillaBlock(4, 4)] * 2),
                          VanillaBlock(4, 8), VanillaNetClassifier(8, 3), nn.Conv2d(1, 1, 1))
    assert set_act_lambda(model, 0.5) == 4  # the shared block counts once
    assert all(float(b) == 0.5 for n, b in model.named_buffers() if n.endswith('act_lambda'))
    assert mmshallow.set_act_lambda is set_act_lambda
    for bad in (-0.1, 1.5, float('nan'), '1', True):
        with pytest.raises(ValueError, match=r'act_lambda must be a number in \[0, 1\]'):
            set_act_lambda(model, bad)


def test_block_structure_and_pools():
    block = VanillaBlock(4, 8, stride=2)
    assert isinstance(block.pool, nn.MaxPool2d) and block.pool.kernel_size == 2
    assert isinstance(VanillaBlock(4, 8).pool, nn.Identity)
    ada = VanillaBlock(4, 8, stride=2, ada_pool=5)
    assert isinstance(ada.pool, nn.AdaptiveMaxPool2d) and ada.pool.output_size == (5, 5)
    assert ada.eval()(torch.rand(1, 4, 9, 9)).shape == (1, 8, 5, 5)
    with pytest.raises(ValueError, match='ada_pool=5 .* this stage has stride 1'):
        VanillaBlock(4, 8, stride=1, ada_pool=5)
    assert [m.eps for m in block.modules() if isinstance(m, nn.BatchNorm2d)] == [1e-6] * 3
    assert block.conv1.conv.bias is not None and block.conv2.conv.bias is not None
    stem = VanillaStem(3, 8, stride=3, padding=1)
    assert stem.conv1.conv.kernel_size == (4, 4) and stem.conv1.conv.stride == (3, 3)
    assert stem.eval()(torch.rand(1, 3, 224, 224)).shape == (1, 8, 75, 75)
