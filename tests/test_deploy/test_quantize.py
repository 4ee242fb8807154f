"""mmshallow.deploy.quantize: INT8 (ONNX Runtime static QDQ) of fused models, calibrated on the
config's data, evaluated with the codebase's metric; tools/quantize.py is its CLI."""
import json

import numpy as np
import pytest
import torch
import torch.nn as nn

pytest.importorskip('mmdeploy')
pytest.importorskip('onnxruntime')
pytest.importorskip('ml_dtypes')
import onnx  # noqa: E402

from mmshallow.deploy.export import ExportError  # noqa: E402
from mmshallow.deploy.quantize import (FLOAT_REASONS, QuantizationError,  # noqa: E402
                                       layer_sensitivity, ort_session, plan_quantization, quantize,
                                       quantize_onnx, sqnr_db)
from mmshallow.models.layers.dynamic_conv import DynamicConv2d  # noqa: E402
from mmshallow.testing import randomize_bn_statistics  # noqa: E402
from mmshallow.utils.torch_compat import onnx_export  # noqa: E402

DIGITS_A0 = 'configs/quickstart/repvgg-a0_1xb32-12e_digits.py'
DEPLOY_32 = 'configs/deploy/classification_onnxruntime_static-32x32.py'
DEPLOY_224 = 'configs/deploy/classification_onnxruntime_static.py'
DEPLOY_DET = 'configs/deploy/detection_onnxruntime_static-160x160.py'
QUICKSTART_DET = 'configs/quickstart/yolox_parnet-s_1xb8-20e_shapes.py'


def export_module(module, path, shape=(1, 3, 16, 16)):
    onnx_export(module.eval(), (torch.randn(*shape), ), str(path), input_names=['input'],
                opset_version=16)
    return str(path)


def batches(n=8, shape=(1, 3, 16, 16), seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=generator).numpy() for _ in range(n)]


class TwoConvs(nn.Module):
    """conv1 -> ReLU -> conv2 -> ReLU -> pool -> fc -> softmax. ``outlier``: conv1's channel 0
    comes out ~1000x larger but conv2 ignores it, so conv2's input scale (set by the outlier)
    leaves the channels it reads with a few levels: conv2 is the sensitive layer."""

    def __init__(self, outlier=False):
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)
        if outlier:
            with torch.no_grad():
                self.conv1.weight[0] *= 1000
                self.conv1.bias[0] = 1000
                self.conv2.weight[:, 0] = 0

    def forward(self, x):
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(x.mean((2, 3))).softmax(-1)


def test_plan_keeps_softmax_and_dynamic_kernels_in_float(tmp_path):
    class WithDynamicConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.dynamic = DynamicConv2d(8, 8, 3, padding=1, num_experts=4)
            self.head = nn.Conv2d(8, 4, 1)

        def forward(self, x):
            return self.head(torch.relu(self.dynamic(torch.relu(self.stem(x))))).softmax(1)

    path = export_module(WithDynamicConv(), tmp_path / 'd.onnx')
    model = onnx.load(path)
    plan = plan_quantization(model)
    op = {n.name: n.op_type for n in model.graph.node}
    assert [op[n] for n in plan['layers']] == ['Conv', 'Conv']  # stem and head, not the gate
    assert [op[n] for n in plan['float']['dynamic_conv']] == ['Conv']
    kernel_ops = {op[n] for n in plan['float']['dynamic_kernel']}
    assert 'MatMul' in kernel_ops  # the expert mix
    assert [op[n] for n in plan['float']['post_processing']] == ['Softmax']
    assert not set(plan['quantize']) & set(plan['float']['dynamic_kernel'])


def test_int8_model_is_quantized_and_close_to_fp32(tmp_path):
    fp32 = export_module(TwoConvs(), tmp_path / 'm.onnx')
    info = quantize_onnx(fp32, str(tmp_path / 'm_int8.onnx'), batches())
    ops = [n.op_type for n in onnx.load(str(tmp_path / 'm_int8.onnx')).graph.node]
    assert ops.count('QuantizeLinear') >= 3 and info['quantized_layers'] == 3
    x = batches(1, seed=1)[0]
    ref = ort_session(fp32).run(None, {'input': x})[0]
    got = ort_session(str(tmp_path / 'm_int8.onnx')).run(None, {'input': x})[0]
    assert sqnr_db(ref, got) > 20
    assert not np.array_equal(ref, got)  # really quantized


def _weight_values(path):
    model = onnx.load(path)
    return np.concatenate([onnx.numpy_helper.to_array(i).ravel() for i in model.graph.initializer
                           if i.name.endswith('weight_quantized')])


def test_weights_are_7_bit_by_default_and_8_bit_on_request(tmp_path):
    """7-bit weights keep ONNX Runtime's saturating x86 U8S8 kernels exact (quantize_onnx)."""
    fp32 = export_module(TwoConvs(), tmp_path / 'm.onnx')
    info = quantize_onnx(fp32, str(tmp_path / 'r.onnx'), batches())
    values = _weight_values(str(tmp_path / 'r.onnx'))
    # ONNX Runtime's symmetric reduced range: [-64, 64]
    assert info['reduce_range'] and max(values.max(), -values.min()) == 64
    quantize_onnx(fp32, str(tmp_path / 'f.onnx'), batches(), reduce_range=False)
    values = _weight_values(str(tmp_path / 'f.onnx'))
    assert max(values.max(), -values.min()) == 127


def test_sensitivity_ranks_the_outlier_layer_worst_and_keep_fp32_leaves_it_float(tmp_path):
    fp32 = export_module(TwoConvs(outlier=True), tmp_path / 'o.onnx')
    info = quantize_onnx(fp32, str(tmp_path / 'o_int8.onnx'), batches(), sensitivity=True)
    rows = info['sensitivity']
    assert [r['op'] for r in rows] == ['Conv', 'Conv', 'Gemm'] or rows[0]['op'] == 'Conv'
    assert 'conv2' in rows[0]['node'] and rows[0]['sqnr_db'] < rows[-1]['sqnr_db'] - 10
    kept = quantize_onnx(fp32, str(tmp_path / 'o_keep.onnx'), batches(),
                         keep_fp32=[rows[0]['node']])
    graph = onnx.load(str(tmp_path / 'o_keep.onnx')).graph
    producer = {o: n.op_type for n in graph.node for o in n.output}
    conv2 = next(n for n in graph.node if n.name == rows[0]['node'])
    assert producer.get(conv2.input[1]) != 'DequantizeLinear'  # fp32 weight
    assert kept['kept_fp32'] == [rows[0]['node']] and kept['quantized_layers'] == 2


def test_sensitivity_is_the_layer_alone_error(tmp_path):
    """Recomputed by hand for the first conv: its input (the graph input) fake-quantized with
    the INT8 model's scale, its weight per channel, against fp32."""
    fp32 = export_module(TwoConvs(), tmp_path / 'm.onnx')
    quantize_onnx(fp32, str(tmp_path / 'q.onnx'), batches())
    q = onnx.load(str(tmp_path / 'q.onnx'))
    rows = {r['node']: r['sqnr_db'] for r in layer_sensitivity(onnx.load(fp32), q, batches())}
    module = TwoConvs().conv1
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in q.graph.initializer}
    first = next(n for n in q.graph.node if n.op_type == 'QuantizeLinear'
                 and n.input[0] == 'input')
    scale, zero = float(inits[first.input[1]]), float(inits[first.input[2]])
    w = module.weight.detach()
    w_scale = w.abs().amax((1, 2, 3), keepdim=True) / 64  # 7-bit symmetric (reduce_range)
    w_hat = torch.round(w / w_scale).clamp(-64, 64) * w_scale
    signal = noise = 0.0
    for x in batches():
        x = torch.from_numpy(x)
        x_hat = (torch.clamp(torch.round(x / scale) + zero, 0, 255) - zero) * scale
        ref = module(x)
        err = ref - torch.nn.functional.conv2d(x_hat, w_hat, module.bias, padding=1)
        signal += float((ref.double() ** 2).sum())
        noise += float((err.double() ** 2).sum())
    conv1 = next(name for name in rows if 'conv1' in name)
    assert abs(rows[conv1] - 10 * np.log10(signal / noise)) < 0.05


def test_unfused_empty_unreadable_and_unquantizable_models_are_refused(tmp_path):
    bn = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).train()
    path = str(tmp_path / 'bn.onnx')
    onnx_export(bn, (torch.randn(1, 3, 16, 16), ), path, input_names=['input'],
                opset_version=16, training=torch.onnx.TrainingMode.TRAINING,
                do_constant_folding=False)
    with pytest.raises(QuantizationError, match='BatchNormalization nodes: the model is not '
                       'fused'):
        quantize_onnx(path, str(tmp_path / 'out.onnx'), batches())
    good = export_module(TwoConvs(), tmp_path / 'm.onnx')
    with pytest.raises(QuantizationError, match='the calibration set is empty'):
        quantize_onnx(good, str(tmp_path / 'out.onnx'), [])
    (tmp_path / 'text.onnx').write_text('not onnx')
    with pytest.raises(QuantizationError, match='is not a readable ONNX model'):
        quantize_onnx(str(tmp_path / 'text.onnx'), str(tmp_path / 'out.onnx'), batches())
    no_layers = export_module(nn.Sequential(nn.ReLU(), nn.Softmax(1)), tmp_path / 'r.onnx')
    with pytest.raises(QuantizationError, match='no conv or linear layer'):
        quantize_onnx(no_layers, str(tmp_path / 'out.onnx'), batches())
    with pytest.raises(QuantizationError, match="keep_fp32 names \\['nope'\\]"):
        quantize_onnx(good, str(tmp_path / 'out.onnx'), batches(), keep_fp32=['nope'])
    with pytest.raises(QuantizationError, match="method 'kl' not in minmax, entropy"):
        quantize_onnx(good, str(tmp_path / 'out.onnx'), batches(), method='kl')
    assert not (tmp_path / 'out.onnx').exists()


# ---- the whole flow from a config ---------------------------------------------------------

def save_random(repo_root, config, path, lam=None):
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    cfg = Config.fromfile(str(repo_root / config))
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    model = randomize_bn_statistics(MODELS.build(cfg.model))
    if lam is not None:
        from mmshallow import set_act_lambda
        set_act_lambda(model, lam)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(path))
    return str(path)


def digits_options(root):
    return {f'{split}_dataloader.dataset.data_root': str(root) for split in ('train', 'val')}


@pytest.fixture(scope='module')
def a0_checkpoint(repo_root, tmp_path_factory):
    return save_random(repo_root, DIGITS_A0, tmp_path_factory.mktemp('a0') / 'a0.pth')


def test_classifier_fp32_and_int8_side_by_side_with_report(repo_root, tmp_path, digits_root,
                                                           a0_checkpoint, load_tool):
    work = tmp_path / 'out'
    args = [str(repo_root / DIGITS_A0), a0_checkpoint, str(repo_root / DEPLOY_32),
            '--work-dir', str(work), '--calib-num', '16', '--keep-fp32', '2', '--runs', '5',
            '--cfg-options', *[f'{k}={v}' for k, v in digits_options(digits_root).items()]]
    assert load_tool('quantize').main(args) == 0
    report = json.loads((work / 'quantize.json').read_text())
    assert sorted(p.name for p in work.iterdir()) == [
        'end2end.onnx', 'end2end_int8.onnx', 'end2end_int8_keep2.onnx', 'quantize.json']
    models = report['models']
    assert list(models) == ['fp32', 'int8', 'int8_keep2']
    assert report['metric'] == 'accuracy/top1' and report['input_shape'] == [1, 3, 32, 32]
    for row in models.values():
        assert 0 <= row['metric'] <= 100 and row['latency_ms'] > 0
    assert models['fp32']['output_sqnr_db'] == float('inf')
    assert 10 < models['int8']['output_sqnr_db'] < float('inf')
    assert models['int8']['size_mb'] < models['fp32']['size_mb'] / 3  # int8 weights
    assert report['export']['ok'] and report['export']['logits_relative_error'] <= 1e-4
    assert report['calibration'] == dict(split='train', images=16, method='minmax', seed=0)
    assert len(report['keep_fp32']) == 2
    assert report['keep_fp32'] == [r['node'] for r in report['quantization']['sensitivity'][:2]]
    ops = [n.op_type for n in onnx.load(str(work / 'end2end_int8.onnx')).graph.node]
    assert ops.count('DequantizeLinear') > 2 * ops.count('Conv') - 1


@pytest.mark.parametrize('case', ['too_few', 'empty', 'other_size'])
def test_bad_calibration_sets_are_refused_and_nothing_written(repo_root, tmp_path, digits_root,
                                                              a0_checkpoint, case):
    (tmp_path / 'empty' / 'train').mkdir(parents=True)
    root, deploy, num, message = dict(
        too_few=(digits_root, DEPLOY_32, 5000,
                 'the train calibration set has 1438 images, fewer than the 5000 asked for'),
        empty=(tmp_path / 'empty', DEPLOY_32, 4, 'cannot build the train set'),
        other_size=(digits_root, DEPLOY_224, 4, 'the train pipeline gives 32x32 inputs .* the '
                    'static export shape is 224x224'))[case]
    with pytest.raises(QuantizationError, match=message):
        quantize(str(repo_root / DIGITS_A0), a0_checkpoint, str(repo_root / deploy),
                 str(tmp_path / 'out'), calib_num=num, cfg_options=digits_options(root))
    assert not (tmp_path / 'out').exists() or not list((tmp_path / 'out').iterdir())


def test_deploy_config_of_the_other_codebase_is_refused(repo_root, tmp_path, a0_checkpoint):
    with pytest.raises(ExportError, match="the deploy config is for 'mmdet' 'ObjectDetection'"):
        quantize(str(repo_root / DIGITS_A0), a0_checkpoint, str(repo_root / DEPLOY_DET),
                 str(tmp_path / 'out'))
    assert not (tmp_path / 'out').exists()


def test_vanillanet_before_deep_training_ends_is_refused(repo_root, tmp_path, digits_root):
    config = 'configs/quickstart/vanillanet-digits_1xb32-12e_digits.py'
    ckpt = save_random(repo_root, config, tmp_path / 'v.pth', lam=0.5)
    with pytest.raises(ExportError, match='cannot export an unfused model'):
        quantize(str(repo_root / config), ckpt, str(repo_root / DEPLOY_32),
                 str(tmp_path / 'out'), calib_num=4, cfg_options=digits_options(digits_root))
    assert not (tmp_path / 'out').exists()


def test_bad_arguments_name_the_value(repo_root, tmp_path):
    for kwargs, message in [(dict(calib_num=0), 'calib_num must be an integer >= 1, got 0'),
                            (dict(calib_split='holdout'), "calib_split 'holdout' not in train"),
                            (dict(method='kl'), "method 'kl' not in minmax"),
                            (dict(keep_fp32=-1), 'keep_fp32 must be an integer >= 0, got -1')]:
        with pytest.raises(QuantizationError, match=message):
            quantize(str(repo_root / DIGITS_A0), 'unused.pth', str(repo_root / DEPLOY_32),
                     str(tmp_path / 'out'), **kwargs)


@pytest.mark.slow
def test_parameternet_quantizes_with_its_dynamic_kernels_in_float(repo_root, tmp_path,
                                                                  digits_root):
    config = 'configs/quickstart/parameternet-0.5x_1xb32-20e_digits.py'
    ckpt = save_random(repo_root, config, tmp_path / 'p.pth')
    report = quantize(str(repo_root / config), ckpt, str(repo_root / DEPLOY_32),
                      str(tmp_path / 'out'), calib_num=8, runs=3,
                      cfg_options=digits_options(digits_root))
    floats = report['quantization']['float_nodes']
    dynamic = floats['dynamic convolution: its kernels are computed per sample']
    assert dynamic == {'Conv': sum(dynamic.values())} and dynamic['Conv'] > 5
    assert report['quantization']['quantized_layers'] > 20
    assert report['models']['int8']['output_sqnr_db'] > 10


@pytest.mark.needs_mmcv_ops
def test_yolox_detector_int8_end_to_end_with_nms_in_float(repo_root, tmp_path,
                                                          yolox_quickstart_checkpoint):
    from mmshallow.data_generators import generate_shapes_coco
    data = tmp_path / 'shapes'
    generate_shapes_coco(str(data), num_train=8, num_val=4, image_size=160)
    options = {f'{s}_dataloader.dataset.data_root': f'{data}/' for s in ('train', 'val')}
    options['val_evaluator.ann_file'] = f'{data}/annotations/instances_val2017.json'
    report = quantize(str(repo_root / QUICKSTART_DET), yolox_quickstart_checkpoint,
                      str(repo_root / DEPLOY_DET), str(tmp_path / 'out'), calib_num=8, runs=3,
                      cfg_options=options)
    assert report['metric'] == 'coco/bbox_mAP' and report['input_shape'] == [1, 3, 160, 160]
    assert set(report['models']) == {'fp32', 'int8'}
    for row in report['models'].values():
        assert 'coco/bbox_mAP_50' in row['metrics']
    post = report['quantization']['float_nodes'][
        'after the last conv / linear layer (softmax, box decoding, NMS)']
    assert post.get('NonMaxSuppression') == 1
    assert report['quantization']['quantized_layers'] >= 60


def _shapes_options(data, size):
    """Train and val on generated shapes at ``size`` x ``size`` (resized, no padding: the
    static export shape)."""
    pipelines = {
        'train': [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                  dict(type='Resize', scale=(size, size), keep_ratio=False),
                  dict(type='PackDetInputs')],
        'val': [dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(size, size), keep_ratio=False),
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                      'img_shape', 'scale_factor'))]}
    options = {}
    for split, ann in (('train', 'train2017'), ('val', 'val2017')):
        options[f'{split}_dataloader.dataset.data_root'] = f'{data}/'
        options[f'{split}_dataloader.dataset.ann_file'] = f'annotations/instances_{ann}.json'
        options[f'{split}_dataloader.dataset.data_prefix'] = dict(img=f'{ann}/')
        options[f'{split}_dataloader.dataset.metainfo'] = dict(
            classes=('circle', 'square', 'triangle'))
        options[f'{split}_dataloader.dataset.pipeline'] = pipelines[split]
        options[f'{split}_dataloader.batch_size'] = 1
    options['val_evaluator.ann_file'] = f'{data}/annotations/instances_val2017.json'
    return options


@pytest.mark.slow
@pytest.mark.needs_mmcv_ops
def test_faster_rcnn_int8_keeps_the_roi_head_in_float(repo_root, tmp_path,
                                                      faster_rcnn_shapes_checkpoint):
    """The two-stage detector is exported, quantized up to proposal selection, run and
    reported; everything after the RPN's TopK / NMS / RoiAlign stays float."""
    from mmshallow.data_generators import generate_shapes_coco
    data = tmp_path / 'shapes'
    generate_shapes_coco(str(data), num_train=4, num_val=2, image_size=320)
    report = quantize(str(repo_root / 'configs/parnet_faster-rcnn_coco.py'),
                      faster_rcnn_shapes_checkpoint, str(repo_root / DEPLOY_DET.replace(
                          '-160x160', '')), str(tmp_path / 'out'), calib_num=4, runs=2,
                      warmup=1, shape=(320, 320),
                      cfg_options={**_shapes_options(data, 320),
                                   'model.roi_head.bbox_head.num_classes': 3})
    assert report['input_shape'] == [1, 3, 320, 320]
    assert set(report['models']) == {'fp32', 'int8'}
    for row in report['models'].values():
        assert 'coco/bbox_mAP' in row['metrics'] and row['latency_ms'] > 0
    floats = report['quantization']['float_nodes']
    roi_head = floats[FLOAT_REASONS['after_proposals']]
    assert roi_head.get('RoiAlign', 0) >= 1 and roi_head.get('Gemm', 0) + roi_head.get(
        'MatMul', 0) >= 2  # the RoI head's shared FCs and its cls / reg layers
    assert report['quantization']['quantized_layers'] >= 40  # backbone, neck, RPN


@pytest.mark.slow
@pytest.mark.parametrize('config', [
    'configs/quickstart/parnet-digits_1xb32-12e_digits.py',
    'configs/quickstart/vanillanet-digits_1xb32-12e_digits.py',
    'configs/quickstart/mobilenext-1.0_1xb32-20e_digits.py',
    'configs/quickstart/qarepvgg-a0_1xb32-12e_digits.py'])
def test_every_family_quantizes_fully(repo_root, tmp_path, digits_root, config):
    """The other families' digits classifiers (RepVGG and ParameterNet above): every conv and
    linear layer quantized, nothing but the final softmax left in float."""
    ckpt = save_random(repo_root, config, tmp_path / 'm.pth',
                       lam=1.0 if 'vanillanet' in config else None)
    report = quantize(str(repo_root / config), ckpt, str(repo_root / DEPLOY_32),
                      str(tmp_path / 'out'), calib_num=8, runs=2, warmup=1,
                      cfg_options=digits_options(digits_root))
    info = report['quantization']
    assert info['quantized_layers'] == len(info['layers']) > 5
    assert list(info['float_nodes']) == [FLOAT_REASONS['post_processing']]
    assert report['models']['int8']['output_sqnr_db'] > 10
