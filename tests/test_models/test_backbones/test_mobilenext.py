import logging

import pytest
import torch
import torch.nn as nn

from mmshallow.models import MobileNeXt, SandGlassBlock
from mmshallow.registry import MODELS
from mmshallow.testing import randomize_bn_statistics

WIDTHS = [0.35, 0.5, 0.75, 1.0, 1.4]
# Parameters of the authors' mnext.py MXNet(width_mult=w) with its 1000-class FC.
OFFICIAL_PARAMS = {0.35: 1_913_976, 0.5: 2_152_304, 0.75: 2_766_168, 1.0: 3_535_416,
                   1.4: 6_126_168}
# Conv + FC multiply-adds at 224x224 counted from the authors' code (BN, activations, pooling
# and residual additions not counted). README: 80, 110, 210, 300, 590 M.
OFFICIAL_MADDS = {0.35: 75e6, 0.5: 103e6, 0.75: 208e6, 1.0: 311e6, 1.4: 588e6}
# (stem, stage widths) per widen factor, from the authors' rounding
WIDTH_TABLE = {
    0.35: (16, [32, 48, 64, 104, 136, 200, 336, 1280]),
    0.5: (16, [48, 72, 96, 144, 192, 288, 480, 1280]),
    0.75: (24, [72, 112, 144, 216, 288, 432, 720, 1280]),
    1.0: (32, [96, 144, 192, 288, 384, 576, 960, 1280]),
    1.4: (48, [136, 200, 272, 400, 536, 808, 1344, 1792]),
}


def classifier(widen_factor):
    """The authors' ImageNet model as an mmpretrain classifier: backbone, GAP, linear head
    (their Dropout(0.2) before the FC has no parameters)."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    init_default_scope('mmpretrain')
    return PRETRAIN_MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='mmshallow.MobileNeXt', widen_factor=widen_factor),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000,
                  in_channels=WIDTH_TABLE[widen_factor][1][-1])))


def conv_fc_macs(model, x):
    """Multiply-adds of every Conv2d and Linear of one forward of ``x`` (batch 1)."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * module.in_channels // module.groups * kh * kw
        else:
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return total


@pytest.mark.parametrize('widen_factor', WIDTHS)
def test_params_equal_and_madds_match_the_authors_code(widen_factor):
    with torch.device('meta'):
        model = classifier(widen_factor)
        assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[widen_factor]
        macs = conv_fc_macs(model, torch.empty(1, 3, 224, 224))
    assert macs == pytest.approx(OFFICIAL_MADDS[widen_factor], rel=0.03)


def test_mmengine_counter_at_width_1():
    # mmengine also counts BN and the residual additions: 327.5M vs 311M conv + FC MACs
    from mmengine.analysis import get_model_complexity_info
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # per-op "unsupported" notes
    with torch.device('meta'):
        model = classifier(1.0)
    model = model.to_empty(device='cpu').eval()  # FLOPs do not depend on the values
    for param in model.parameters():
        param.data.zero_()
    info = get_model_complexity_info(model, input_shape=(3, 224, 224), show_table=False,
                                     show_arch=False)
    assert info['flops'] / 1e6 == pytest.approx(327.5, abs=0.05)
    assert info['params'] == OFFICIAL_PARAMS[1.0]


@pytest.mark.parametrize('widen_factor', WIDTHS)
def test_widths_follow_the_authors_rounding(widen_factor):
    with torch.device('meta'):
        model = MobileNeXt(widen_factor)
    stem, stages = WIDTH_TABLE[widen_factor]
    assert model.stem.conv.out_channels == stem
    assert model.out_channels == stages


def test_blocks_at_width_1_as_the_authors_build_them():
    with torch.device('meta'):
        model = MobileNeXt()
    # per stage: (in, hidden, out, first dw?, last dw stride, residual?) of each block
    layout = [[(b.in_channels, b.hidden_channels, b.out_channels, b.dw_in is not None,
                None if b.dw_out is None else b.dw_out.conv.stride[0], b.with_residual)
               for b in stage] for stage in model.stages]

    def same(c, h):  # a residual block of the canonical form
        return c, h, c, True, 1, True

    assert layout == [
        [(32, 16, 96, True, 2, False)],
        [(96, 32, 144, True, 1, False)],
        [(144, 32, 192, False, 2, False)] + [same(192, 32)] * 2,
        [(192, 48, 288, False, 2, False)] + [same(288, 48)] * 2,
        [(288, 64, 384, False, None, False)] + [same(384, 64)] * 3,
        [(384, 96, 576, False, 2, False)] + [same(576, 96)] * 3,
        [(576, 160, 960, False, None, False)] + [same(960, 160)] * 2,
        [(960, 208, 1280, True, 1, False)],
    ]
    stem = model.stem
    assert (stem.conv.kernel_size, stem.conv.stride, stem.conv.bias) == ((3, 3), (2, 2), None)
    assert isinstance(stem.activate, nn.ReLU6)
    assert isinstance(model.stages[-1][-1].dw_out.conv, nn.Conv2d)  # no final 1x1 conv


def test_every_stage_output_and_its_stride():
    with torch.device('meta'):
        model = MobileNeXt(out_indices=tuple(range(8)))
        outs = model(torch.empty(1, 3, 224, 224))
    assert [(o.shape[1], 224 // o.shape[-1]) for o in outs] == [
        (96, 4), (144, 4), (192, 8), (288, 16), (384, 16), (576, 32), (960, 32), (1280, 32)]


def test_detection_taps_at_strides_4_8_16_32():
    with torch.device('meta'):
        model = MobileNeXt(0.5, out_indices=(1, 2, -4, -1))
        outs = model(torch.empty(2, 3, 224, 320))
    assert model.out_indices == (1, 2, 4, 7)
    assert [tuple(o.shape) for o in outs] == [(2, 72, 56, 80), (2, 96, 28, 40),
                                              (2, 192, 14, 20), (2, 1280, 7, 10)]


@pytest.mark.parametrize('widen_factor,multiplier,kept', [
    (1.0, 1 / 2, [96, 144, 192, 288, 480]),
    (1.0, 1 / 6, [32, 48, 64, 96, 160]),
    (0.5, 1 / 3, [32, 48, 64, 96, 160]),
    (0.35, 1 / 2, [32, 52, 68, 100, 168]),
])
def test_identity_tensor_multiplier_reaches_every_residual_block(widen_factor, multiplier, kept):
    with torch.device('meta'):
        model = MobileNeXt(widen_factor, identity_tensor_multiplier=multiplier)
    per_stage = [{b.identity_channels for b in stage if b.with_residual} for stage in
                 model.stages]
    assert [s for s in per_stage if s] == [{k} for k in kept]


@pytest.mark.parametrize('widen_factor', [0.35, 1.4])
def test_multiplier_that_splits_a_channel_is_refused(widen_factor):
    first = WIDTH_TABLE[widen_factor][1][2]  # first residual width: 64 and 272
    with pytest.raises(ValueError, match=rf'= [0-9.]+ of the {first} channels'):
        MobileNeXt(widen_factor, identity_tensor_multiplier=1 / 3)


def test_bad_widen_factor_and_multiplier():
    with pytest.raises(ValueError, match=r'widen_factor 0\.6 not in MobileNeXt widen factors: '
                                         r'0\.35, 0\.5, 0\.75, 1\.0, 1\.4'):
        MobileNeXt(0.6)
    with pytest.raises(ValueError, match='widen_factor 0.1 not in'):
        MobileNeXt(0.1)
    with torch.device('meta'):
        assert MobileNeXt(1).widen_factor == 1
        with pytest.raises(ValueError, match='identity_tensor_multiplier 0 is not allowed'):
            MobileNeXt(identity_tensor_multiplier=0)


def test_with_cp_gives_the_same_outputs_and_gradients(checkpoint_calls):
    torch.manual_seed(0)
    model = randomize_bn_statistics(MobileNeXt(0.35, out_indices=(2, 7))).eval()
    checkpointed = randomize_bn_statistics(
        MobileNeXt(0.35, out_indices=(2, 7), with_cp=True)).eval()
    checkpointed.load_state_dict(model.state_dict())
    assert all(b.with_cp for stage in checkpointed.stages for b in stage)
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    grads = []
    for m in (model, checkpointed):
        outs = m(x)
        grads.append(torch.autograd.grad(sum(o.sum() for o in outs), x)[0])
        assert [tuple(o.shape) for o in outs] == [(1, 64, 4, 4), (1, 1280, 1, 1)]
    torch.testing.assert_close(grads[1], grads[0])
    assert checkpoint_calls == [b._inner_forward for stage in checkpointed.stages for b in stage]


def test_authors_init_and_registry():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='mmshallow.MobileNeXt', widen_factor=0.35))
    assert isinstance(model, MobileNeXt)
    assert isinstance(model.stages[2][1], SandGlassBlock)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(3)
    model.init_weights()
    conv = model.stages[6][1].expand.conv  # 1x1, 56 -> 336: std sqrt(2 / 336)
    assert conv.weight.std().item() == pytest.approx((2 / 336)**0.5, rel=0.05)
    assert all((m.weight == 1).all() for m in model.modules() if isinstance(m, nn.BatchNorm2d))
