import logging

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

import mmshallow
from mmshallow.models import VanillaNet, VanillaNetClassifier
from mmshallow.testing import randomize_bn_statistics, relative_error

ARCHS = list(VanillaNet.arch_settings)
# Official code (huawei-noah/VanillaNet models/vanillanet.py), backbone + 1000-class classifier;
# the deploy counts are the README's 15.5M ... 127.8M.
DEPLOY_PARAMS = {
    '5': 15_523_304, '6': 32_509_416, '7': 32_797_672, '8': 37_096_424, '9': 41_395_176,
    '10': 45_693_928, '11': 49_992_680, '12': 54_291_432, '13': 58_590_184,
    '13-1.5x': 127_796_200, '13-1.5x-ada': 127_796_200}
TRAIN_PARAMS = {'5': 22_328_800, '13': 107_702_240, '13-1.5x': 236_942_048,
                '13-1.5x-ada': 236_942_048}
# README FLOPs (G) of the deploy model at 224x224 (torchprofile MACs)
OFFICIAL_GFLOPS = {'5': 5.2, '13': 11.9, '13-1.5x': 26.5, '13-1.5x-ada': 48.9}


def classifier(arch, deploy=False, **kwargs):
    """The official ImageNet model: backbone + head (as our neck)."""
    backbone = VanillaNet(arch, deploy=deploy, **kwargs)
    return nn.Sequential(backbone, VanillaNetClassifier(backbone.out_channels[-1], 1000,
                                                        deploy=deploy))


def count(model):
    return sum(p.numel() for p in model.parameters())


def input_size(arch):
    return 224 if arch == '13-1.5x-ada' else 64


@pytest.mark.parametrize('arch', ARCHS)
def test_param_counts_equal_official(arch):
    with torch.device('meta'):  # counts only: no memory, no init
        assert count(classifier(arch, deploy=True)) == DEPLOY_PARAMS[arch]
        if arch in TRAIN_PARAMS:
            assert count(classifier(arch)) == TRAIN_PARAMS[arch]


def test_readme_params_are_the_deploy_counts():
    readme = [15.5, 32.5, 32.8, 37.1, 41.4, 45.7, 50.0, 54.3, 58.6, 127.8, 127.8]
    assert [round(DEPLOY_PARAMS[a] / 1e6, 1) for a in ARCHS] == readme


def stage_layout(arch):
    settings = VanillaNet.arch_settings[arch]
    dims = settings['dims']
    return list(zip(dims[:-1], dims[1:], settings['strides']))


def stages_within(arch, family):
    """Which stages of ``family`` (VanillaNet-13 or -13-1.5x) make up ``arch``: every arch is
    the same stem and classifier with a subset of the stages, in order."""
    family_stages, picked, j = stage_layout(family), [], 0
    for stage in stage_layout(arch):
        while family_stages[j] != stage:
            j += 1
        picked.append(j)
        j += 1
    return picked


def family_of(arch):
    return '13-1.5x-ada' if arch.startswith('13-1.5x') else '13'


@pytest.fixture(scope='module')
def fused_families():
    """Train-time and fused weights of VanillaNet-13 and -13-1.5x, each built and fused once
    (fusing the 4096- and 6144-wide stages costs seconds; a 13-1.5x has 237M parameters)."""
    cache = {}

    def get(family):
        if family not in cache:
            torch.manual_seed(0)
            model = randomize_bn_statistics(classifier(family)).eval()
            train_state = model.state_dict()
            with torch.no_grad():
                mmshallow.reparameterize(model)
            assert not any(isinstance(m, _BatchNorm) for m in model.modules())
            assert not any(name.endswith('act_lambda') for name, _ in model.named_buffers())
            cache[family] = train_state, model.state_dict()
        return cache[family]

    return get


def sub_state(state, picked):
    """The weights of the picked stages, renumbered 0, 1, ..."""
    renumber = {f'0.stages.{j}.': f'0.stages.{i}.' for i, j in enumerate(picked)}
    sub = {}
    for key, value in state.items():
        if key.startswith('0.stages.'):
            prefix = '.'.join(key.split('.')[:3]) + '.'
            if prefix not in renumber:
                continue
            key = renumber[prefix] + key[len(prefix):]
        sub[key] = value
    return sub


def on_weights(arch, state, deploy):
    """``classifier(arch)`` holding ``state`` (shared, not copied), loaded strictly."""
    with torch.device('meta'):
        model = classifier(arch, deploy=deploy, out_indices=(0, 1, -1))
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval()


def outputs(model, x):
    feats = model[0](x)
    return [*feats, *model[1](feats)]


@pytest.mark.parametrize('arch', ARCHS)
def test_fused_matches_train_time_at_lambda_one(arch, fused_families):
    """Train-time (eval BN, λ = 1) vs the fused weights loaded strictly into deploy=True."""
    family = family_of(arch)
    train_state, fused_state = fused_families(family)
    picked = stages_within(arch, family)
    assert len(picked) == len(stage_layout(arch))
    size = input_size(arch)
    x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = outputs(on_weights(arch, sub_state(train_state, picked), False), x)
        fused = outputs(on_weights(arch, sub_state(fused_state, picked), True), x)
    assert expected[-1].shape == (1, 1000)
    assert relative_error(fused, expected) <= 1e-5


def test_train_time_weights_into_deploy_model_are_refused():
    with torch.device('meta'):
        train, deployed = VanillaNet('5'), VanillaNet('5', deploy=True)
    with pytest.raises(RuntimeError, match='train-time .* tools/reparameterize.py'):
        deployed.load_state_dict(train.state_dict(), assign=True)
    with pytest.raises(RuntimeError, match='holds fused .* build it with deploy=True'):
        train.load_state_dict(deployed.state_dict(), assign=True)


@pytest.mark.parametrize('arch', ['5', '13', '13-1.5x', '13-1.5x-ada'])
def test_flops_match_the_readme(arch):
    from mmengine.analysis import get_model_complexity_info
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # per-op "unsupported" notes
    with torch.device('meta'):
        model = classifier(arch, deploy=True)
    model = model.to_empty(device='cpu').eval()  # FLOPs do not depend on the values
    for param in model.parameters():
        param.data.zero_()
    info = get_model_complexity_info(model, input_shape=(3, 224, 224), show_table=False,
                                     show_arch=False)
    assert info['flops'] / 1e9 == pytest.approx(OFFICIAL_GFLOPS[arch], rel=0.02)
    assert info['params'] == DEPLOY_PARAMS[arch]


def test_official_detection_taps_are_stages_at_strides_4_8_16_32():
    # official mmdet configs for VanillaNet-13: Mask R-CNN out_indices=[0, 1, 8, 10] with
    # neck in_channels [512, 1024, 2048, 4096]; RetinaNet [1, 8, 10]
    with torch.device('meta'):
        model = VanillaNet('13', act_num=4, out_indices=(0, 1, 8, 10), deploy=True)
        outs = model(torch.empty(2, 3, 224, 320))
    assert [tuple(o.shape) for o in outs] == [(2, 512, 56, 80), (2, 1024, 28, 40),
                                              (2, 2048, 14, 20), (2, 4096, 7, 10)]
    assert [model.out_channels[i] for i in (0, 1, 8, 10)] == [512, 1024, 2048, 4096]
    assert model.stages[0].act.fused_conv.kernel_size == (9, 9)


def test_out_channels_and_every_stage_output():
    with torch.device('meta'):
        model = VanillaNet('8', out_indices=tuple(range(6)), deploy=True)
        outs = model(torch.empty(1, 3, 224, 224))
    assert model.out_channels == [512, 1024, 2048, 2048, 4096, 4096]
    assert [(o.shape[1], o.shape[-1]) for o in outs] == [(512, 56), (1024, 28), (2048, 14),
                                                         (2048, 14), (4096, 7), (4096, 7)]


def test_ada_pool_arch_layout_and_input_size():
    with torch.device('meta'):
        model = VanillaNet('13-1.5x-ada', out_indices=(0, 1, 2, 8, 9, 10), deploy=True)
        outs = model(torch.empty(1, 3, 224, 224))
        assert [(o.shape[1], o.shape[-1]) for o in outs] == [
            (768, 75), (1536, 38), (3072, 19), (3072, 19), (6144, 10), (6144, 10)]
        conv = model.stem.fused_conv
        assert (conv.kernel_size, conv.stride, conv.padding) == ((4, 4), (3, 3), (1, 1))
        pools = [type(s.pool).__name__ for s in model.stages]
        assert pools == ['Identity', 'AdaptiveMaxPool2d', 'AdaptiveMaxPool2d'] + [
            'Identity'] * 6 + ['AdaptiveMaxPool2d', 'Identity']
        for size in ((256, 256), (224, 192)):
            with pytest.raises(ValueError, match=rf"arch '13-1.5x-ada' got a {size[0]}x"
                                                 rf'{size[1]} input but requires 224x224'):
                model(torch.empty(1, 3, *size))
        # the plain 1.5x arch takes any size
        assert VanillaNet('13-1.5x', deploy=True)(torch.empty(1, 3, 256, 192))[0].shape[-2:] \
            == (8, 6)


def test_custom_arch_dict():
    arch = dict(dims=[8, 16, 16, 32], strides=[2, 1, 2], ada_pool=[0, 0, 3], stem_stride=3,
                stem_padding=1, input_size=(32, 32))
    model = VanillaNet(arch, act_num=1, out_indices=(0, 1, 2)).eval()
    outs = model(torch.rand(1, 3, 32, 32))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 5, 5), (16, 5, 5), (32, 3, 3)]
    assert model.out_channels == [16, 16, 32]
    with pytest.raises(ValueError, match='requires 32x32'):
        model(torch.rand(1, 3, 64, 64))


def test_bad_arch():
    with pytest.raises(ValueError, match="arch '14' not in VanillaNet archs: 5, 6, 7, 8, 9, 10, "
                                         "11, 12, 13, 13-1.5x, 13-1.5x-ada"):
        VanillaNet('14')
    with pytest.raises(TypeError, match='a dict with dims and strides'):
        VanillaNet(dict(dims=[8, 16]))
    with pytest.raises(ValueError, match=r'len\(dims\) == len\(strides\) \+ 1'):
        VanillaNet(dict(dims=[8, 16], strides=[2, 2]))
    with pytest.raises(ValueError, match='one ada_pool per stage'):
        VanillaNet(dict(dims=[8, 16, 32], strides=[2, 2], ada_pool=[0]))
    with pytest.raises(TypeError, match='VanillaNet arch dict has unknown key.s. act_num: allowed '
                                        'dims, strides, ada_pool, stem_stride, stem_padding, '
                                        'input_size'):
        VanillaNet(dict(dims=[8, 16], strides=[2], act_num=1))


def test_official_init():
    torch.manual_seed(0)
    model = VanillaNet(dict(dims=[64, 128, 128], strides=[2, 1]))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(3)
    model.init_weights()
    conv = model.stages[0].conv1.conv
    assert conv.weight.std().item() == pytest.approx(0.02, rel=0.1)
    assert conv.weight.abs().max() <= 2 and not conv.bias.any()
    assert all((m.weight == 1).all() for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert model.stem.act.weight.std().item() == pytest.approx(0.02, rel=0.2)
