import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import mmshallow
from mmshallow.models.layers import DynamicConv2d, DynamicConvBN
from mmshallow.models.layers.fusion import fuse_experts_bn
from mmshallow.testing import randomize_bn_statistics, relative_error

TOL = 1e-5
# (in, out, kernel, stride, padding, groups)
GEOMETRIES = [(6, 8, 3, 1, 1, 1), (8, 8, 3, 2, 1, 8), (6, 4, 1, 1, 0, 2), (4, 6, 5, 2, 2, 1)]


def per_sample(conv, x):
    """The definition: each sample convolved with its own mixed kernel, one at a time."""
    alphas = conv.routing_weights(x)
    outs = []
    for xi, ai in zip(x, alphas):
        kernel = (ai[:, None, None, None, None] * conv.weight).sum(0)
        bias = None if conv.bias is None else ai @ conv.bias
        if conv.deploy:
            bias = conv.static_bias if bias is None else bias + conv.static_bias
        outs.append(F.conv2d(xi[None], kernel, bias, conv.stride, conv.padding,
                             groups=conv.groups))
    return torch.cat(outs)


@pytest.mark.parametrize('bias', [False, True])
@pytest.mark.parametrize('expert', [0, 2])
def test_one_hot_gate_reproduces_a_static_conv_with_that_expert(bias, expert, monkeypatch):
    torch.manual_seed(0)
    conv = DynamicConv2d(6, 8, 3, stride=2, padding=1, bias=bias, num_experts=3)
    static = nn.Conv2d(6, 8, 3, stride=2, padding=1, bias=bias)
    with torch.no_grad():
        static.weight.copy_(conv.weight[expert])
        if bias:
            static.bias.copy_(conv.bias[expert])
    one_hot = F.one_hot(torch.tensor(expert), 3).float()
    monkeypatch.setattr(conv, 'routing_weights', lambda x: one_hot.expand(x.shape[0], -1))
    x = torch.randn(3, 6, 9, 10)
    with torch.no_grad():
        assert relative_error(conv(x), static(x)) <= TOL
        assert relative_error(conv(x[:1]), static(x[:1])) <= TOL


@pytest.mark.parametrize('geometry', GEOMETRIES)
@pytest.mark.parametrize('gate', ['sigmoid', 'softmax'])
def test_batched_grouped_conv_equals_a_per_sample_loop(geometry, gate):
    torch.manual_seed(0)
    cin, cout, k, stride, padding, groups = geometry
    conv = DynamicConv2d(cin, cout, k, stride, padding, groups=groups, bias=True, gate=gate)
    x = torch.randn(4, cin, 11, 9)
    with torch.no_grad():
        batched = conv(x)
        assert batched.shape == (4, cout, *per_sample(conv, x).shape[-2:])
        assert relative_error(batched, per_sample(conv, x)) <= TOL
        # batch 1 takes the plain conv with its mixed kernel and agrees with the batched path
        for i in range(2):
            assert relative_error(conv(x[i:i + 1]), batched[i:i + 1]) <= TOL


def test_one_matmul_and_one_conv_per_batch(monkeypatch):
    conv = DynamicConv2d(4, 6, 3, padding=1, num_experts=5)
    calls = []
    original = F.conv2d

    def counting_conv2d(input, weight, *args):
        calls.append((tuple(input.shape), tuple(weight.shape), args[-1]))
        return original(input, weight, *args)

    monkeypatch.setattr(F, 'conv2d', counting_conv2d)
    conv(torch.randn(8, 4, 5, 5))
    conv(torch.randn(1, 4, 5, 5))
    # batch folded into the channels, groups = batch * groups; then the plain batch-1 conv
    assert calls == [((1, 32, 5, 5), (48, 4, 3, 3), 8), ((1, 4, 5, 5), (6, 4, 3, 3), 1)]


def test_gates_and_experts_layout():
    torch.manual_seed(0)
    conv = DynamicConv2d(6, 8, 3, groups=2, num_experts=3)
    assert conv.weight.shape == (3, 8, 3, 3, 3) and conv.bias is None
    assert isinstance(conv.routing, nn.Linear) and conv.routing.out_features == 3
    assert not torch.equal(conv.weight[0], conv.weight[1])  # each expert initialized
    x = torch.randn(5, 6, 4, 4)
    alphas = conv.routing_weights(x)
    assert alphas.shape == (5, 3) and ((alphas > 0) & (alphas < 1)).all()
    assert torch.allclose(alphas, torch.sigmoid(conv.routing(x.mean((2, 3)))))

    soft = DynamicConv2d(6, 8, 3, num_experts=4, gate='softmax', gate_hidden=10, bias=True)
    assert [type(m) for m in soft.routing] == [nn.Linear, nn.ReLU, nn.Linear]
    assert soft.routing[0].out_features == 10 and soft.routing[2].out_features == 4
    assert DynamicConv2d(6, 8, 3, gate='softmax').routing[0].out_features == 6  # default: in
    alphas = soft.routing_weights(x)
    assert torch.allclose(alphas.sum(1), torch.ones(5))
    assert soft(x).shape == (5, 8, 2, 2)


def test_positional_arguments_follow_the_issue_signature():
    # (in, out, kernel_size, stride, padding, groups, bias, num_experts); dilation comes later
    conv = DynamicConv2d(4, 8, 3, 1, 1, 2, True, 3)
    assert (conv.stride, conv.padding, conv.groups, conv.num_experts) == (1, 1, 2, 3)
    assert conv.bias is not None and conv.dilation == 1
    assert DynamicConv2d(4, 8, 3, 1, 1, 2).groups == 2
    pair = DynamicConvBN(4, 8, 3, 1, 1, 2, False, 3)
    assert (pair.conv.groups, pair.conv.num_experts, pair.conv.bias) == (2, 3, None)
    dilated = DynamicConv2d(4, 8, 3, padding=2, dilation=2)
    assert dilated(torch.randn(2, 4, 9, 9)).shape == (2, 8, 9, 9)


@pytest.mark.parametrize('num_experts', [0, -1, 1.5, True, '4'])
def test_rejects_a_bad_num_experts(num_experts):
    with pytest.raises(ValueError, match=rf'num_experts {num_experts!r} is not allowed: .*'
                                         'int >= 1'):
        DynamicConv2d(4, 4, 3, num_experts=num_experts)
    with pytest.raises(ValueError, match='is not allowed'):
        DynamicConvBN(4, 4, 3, num_experts=num_experts)


def test_rejects_a_bad_gate_and_groups():
    with pytest.raises(ValueError, match="gate 'tanh' not in DynamicConv2d gates: sigmoid, "
                                         'softmax'):
        DynamicConv2d(4, 4, 3, gate='tanh')
    with pytest.raises(ValueError, match='gate_hidden=8 is only used by the softmax gate'):
        DynamicConv2d(4, 4, 3, gate_hidden=8)
    with pytest.raises(ValueError, match='must be divisible by groups 3'):
        DynamicConv2d(4, 6, 3, groups=3)


def test_fuse_experts_bn_keeps_the_shift_out_of_the_mix():
    # sigmoid gates do not sum to 1: a shift mixed into the experts would be scaled by sum(a)
    torch.manual_seed(0)
    kernels, expert_bias = torch.randn(3, 4, 2, 3, 3), torch.randn(3, 4)
    static_bias = torch.randn(4)
    bn = randomize_bn_statistics(nn.BatchNorm2d(4), seed=1).eval()
    alphas = torch.tensor([0.9, 0.7, 0.2])
    x = torch.randn(1, 2, 6, 6)

    def dynamic(k, b, c):
        return F.conv2d(x, (alphas[:, None, None, None, None] * k).sum(0), alphas @ b + c,
                        padding=1)

    expected = bn(dynamic(kernels, expert_bias, static_bias))
    fused = fuse_experts_bn(kernels, expert_bias, bn, static_bias)
    assert relative_error(dynamic(*fused), expected) <= TOL
    k, b, c = fuse_experts_bn(kernels, None, bn)
    assert b is None
    assert relative_error(dynamic(k, torch.zeros(3, 4), c),
                          bn(dynamic(kernels, torch.zeros(3, 4), 0))) <= TOL


@pytest.mark.parametrize('gate,bias', [('sigmoid', False), ('sigmoid', True), ('softmax', True)])
def test_dynamic_conv_bn_fuses_bn_into_every_expert_exactly(gate, bias):
    torch.manual_seed(0)
    module = randomize_bn_statistics(
        DynamicConvBN(6, 8, 3, stride=2, padding=1, bias=bias, gate=gate)).eval()
    x = torch.randn(3, 6, 10, 10)
    with torch.no_grad():
        expected, expected_one = module(x), module(x[:1])
        weight = module.conv.weight.clone()
        mmshallow.reparameterize(module)
        assert relative_error(module(x), expected) <= TOL
        assert relative_error(module(x[:1]), expected_one) <= TOL
    assert module.deploy and not hasattr(module, 'conv') and not hasattr(module, 'bn')
    fused = module.fused_conv
    assert isinstance(fused, DynamicConv2d) and fused.deploy
    assert fused.weight.shape == weight.shape and fused.static_bias.shape == (8, )
    assert not torch.equal(fused.weight, weight)

    # a model built with deploy=True takes the fused weights; a train-time one refuses them
    deployed = DynamicConvBN(6, 8, 3, stride=2, padding=1, bias=bias, gate=gate,
                             deploy=True).eval()
    deployed.load_state_dict(module.state_dict())
    with torch.no_grad():
        assert relative_error(deployed(x), expected) <= TOL
    with pytest.raises(RuntimeError, match='holds fused .* build it with deploy=True'):
        DynamicConvBN(6, 8, 3, bias=bias, gate=gate).load_state_dict(module.state_dict())


def test_fusing_a_dynamic_conv_alone_adds_a_zero_static_bias():
    torch.manual_seed(0)
    conv = DynamicConv2d(4, 6, 3, padding=1)
    x = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        expected = conv(x)
        conv.switch_to_deploy()
        assert relative_error(conv(x), expected) == 0
    assert conv.deploy and not conv.static_bias.any()
    assert 'static_bias' in DynamicConv2d(4, 6, 3, deploy=True).state_dict()
    assert 'static_bias' not in DynamicConv2d(4, 6, 3).state_dict()
