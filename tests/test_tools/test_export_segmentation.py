"""tools/export.py for mmseg segmentors: UPerNet + RepVGG-A0 through mmdeploy's mmseg codebase,
fused, its logits and label maps checked in ONNX Runtime."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

pytest.importorskip('mmdeploy')
pytest.importorskip('onnxruntime')
import onnx  # noqa: E402

from mmshallow.deploy import ExportError  # noqa: E402
from mmshallow.utils.numerics import randomize_bn_statistics  # noqa: E402

STATIC_128 = 'configs/deploy/segmentation_onnxruntime_static-128x128.py'
STATIC = 'configs/deploy/segmentation_onnxruntime_static.py'
DYNAMIC = 'configs/deploy/segmentation_onnxruntime_dynamic.py'
STATIC_CLS = 'configs/deploy/classification_onnxruntime_static.py'
POOL_REWRITES = 'torch.nn.functional.adaptive_avg_pool2d'

# the shapes segmentation quickstart's model, small: UPerNet (pyramid pooling 1, 2, 3, 6) on
# RepVGG-A0 at 128x128, 4 classes
SEGMENTOR = '''
default_scope = 'mmseg'
custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255, size=(128, 128)),
    backbone=dict(type='mmshallow.RepVGG', arch='A0', out_indices=(0, 1, 2, 3)),
    decode_head=dict(type='UPerHead', in_channels=[48, 96, 192, 1280], in_index=[0, 1, 2, 3],
                     pool_scales=(1, 2, 3, 6), channels=64, dropout_ratio=0.1, num_classes=4,
                     norm_cfg=norm_cfg, align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                 dict(type='PackSegInputs')]
dataset = dict(type='BaseSegDataset', data_root='{data}', img_suffix='.jpg',
               seg_map_suffix='.png', reduce_zero_label=False,
               metainfo=dict(classes=('background', 'circle', 'square', 'triangle')),
               pipeline=test_pipeline)
train_dataloader = dict(
    batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, data_prefix=dict(img_path='img_dir/train',
                                             seg_map_path='ann_dir/train')))
val_dataloader = dict(
    batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset, data_prefix=dict(img_path='img_dir/val',
                                             seg_map_path='ann_dir/val')))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
'''


def build_segmentor(config: str):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    pytest.importorskip('mmseg')
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    model.init_weights()
    return model.eval()


def calibrated(model, data_root: Path):
    """Random BN affine parameters (a wrongly folded BN shows) and running statistics from
    the train images through the whole model, so that the logits have a trained model's size
    (the random ones run to 1e4 and the label maps hardly depend on the last digits)."""
    import cv2

    from mmshallow.testing import calibrate_bn
    images = [torch.from_numpy(cv2.imread(str(p))).permute(2, 0, 1)
              for p in sorted((data_root / 'img_dir' / 'train').glob('*.jpg'))]
    batches = [model.data_preprocessor(dict(inputs=images[i:i + 4]), False)['inputs']
               for i in (0, 4)]
    return calibrate_bn(randomize_bn_statistics(model), batches,
                        lambda m, x: m(x, mode='tensor'))


def make_segmentor(root: Path):
    """(config, checkpoint) of the UPerNet above, :func:`calibrated`, on 8 train / 4 val
    generated shapes images under ``root`` (tests/test_deploy/test_quantize_segmentation.py
    uses it too)."""
    pytest.importorskip('mmseg')
    from mmshallow.data_generators import generate_shapes_segmentation
    generate_shapes_segmentation(str(root / 'data'), num_train=8, num_val=4, image_size=128)
    config = root / 'upernet_repvgg-a0.py'
    config.write_text(SEGMENTOR.replace('{data}', str(root / 'data')))
    model = calibrated(build_segmentor(str(config)), root / 'data')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(root / 'upernet.pth'))
    return str(config), str(root / 'upernet.pth')


@pytest.fixture(scope='module')
def segmentor(tmp_path_factory):
    return make_segmentor(tmp_path_factory.mktemp('segmentor'))


@pytest.fixture(scope='module')
def static_export(segmentor, repo_root, tmp_path_factory, load_tool):
    work = tmp_path_factory.mktemp('export')
    assert load_tool('export').main([*segmentor, str(repo_root / STATIC_128),
                                     '--work-dir', str(work)]) == 0
    return json.loads((work / 'export.json').read_text())


def fused(config: str, checkpoint: str):
    from mmshallow.deploy import check_exportable
    from mmshallow.models.layers.fold_bn import fold_batchnorms
    model = build_segmentor(config)
    model.load_state_dict(torch.load(checkpoint)['state_dict'])
    return fold_batchnorms(check_exportable(model.eval()))


@pytest.mark.needs_mmcv_ops
def test_upernet_static_export_matches_pytorch_logits_and_labels(static_export, segmentor):
    report = static_export
    assert report['ok'] and report['codebase'] == 'mmseg', report
    assert report['logits_relative_error'] <= 1e-4 and report['label_agreement'] >= 0.999
    # logits resized to the input size by the head, before the graph's ArgMax
    assert report['input_shape'] == [3, 128, 128] and report['logits_shape'] == [1, 4, 128, 128]
    ops = report['ops']
    # RepVGG-A0: 22 fused blocks; UPerHead: 4 pyramid pools + bottleneck, 3 lateral + 3 FPN
    # convs, the FPN bottleneck and conv_seg: 13; their BNs folded into the convs
    assert ops['Conv'] == 35 and 'BatchNormalization' not in ops and ops['ArgMax'] == 1
    from mmshallow.analysis.ort import ort_session
    from mmshallow.deploy.export import run_segmentation, segmentation_outputs_model
    session = ort_session(segmentation_outputs_model(onnx.load(report['onnx'])))
    labels, logits = run_segmentation(session, torch.randn(1, 3, 128, 128).numpy())
    assert labels.shape == (1, 128, 128) and len(np.unique(labels)) >= 2  # not a constant map


@pytest.mark.needs_mmcv_ops
def test_segmentation_parity_check_fails_on_other_logits_and_unfused_models(
        static_export, segmentor):
    from mmseg.structures import SegDataSample

    from mmshallow.deploy.export import segmentation_parity
    data = dict(inputs=torch.randn(1, 3, 128, 128), data_samples=[SegDataSample()])
    model = fused(*segmentor)
    assert segmentation_parity(model, data, static_export['onnx'])['ok']
    with torch.no_grad():  # PyTorch logits no longer those that were exported
        model.decode_head.conv_seg.weight[1] *= 1.01
    wrong = segmentation_parity(model, data, static_export['onnx'])
    assert not wrong['ok'] and wrong['logits_relative_error'] > 1e-4
    # the train-time model computes three convs per RepVGG block: the graph is not its fusion
    with pytest.raises(ExportError, match='35 Conv nodes but the fused model makes'):
        segmentation_parity(build_segmentor(segmentor[0]), data, static_export['onnx'])


def _export_pool(pool: nn.Module, deploy: str, size: int, path: Path, repo_root) -> str:
    from mmdeploy.apis.onnx import export
    from mmdeploy.utils import load_config

    import mmshallow.deploy  # noqa: F401
    deploy_cfg = load_config(str(repo_root / deploy))[0]
    dynamic = deploy_cfg.onnx_config.get('dynamic_axes')
    export(pool, torch.randn(1, 8, size, size), str(path), backend='onnxruntime',
           context_info=dict(deploy_cfg=deploy_cfg), input_names=['input'],
           output_names=['output'], opset_version=16,
           dynamic_axes=dict(input={2: 'h', 3: 'w'}) if dynamic else None)
    return f'{path}.onnx'


def _max_error(onnx_path: str, pool: nn.Module, size) -> float:
    from mmshallow.analysis.ort import ort_run, ort_session
    x = torch.randn(1, 8, *size)
    got = ort_run(ort_session(onnx_path), x.numpy())[0]
    expected = pool(x).numpy()
    if got.shape != expected.shape:
        return float('inf')
    return float(np.abs(got - expected).max())


@pytest.mark.parametrize('out,size', [(6, 16), (3, 16), (6, 4), (2, 8)])
def test_pyramid_pooling_exports_exactly_at_static_sizes(repo_root, tmp_path, out, size):
    """mmdeploy's own rewriter makes a 16x16 map pooled to 6x6 an 8x8 one and a 4x4 map's
    kernel 0; ours follows torch's windows (one AveragePool where the sizes divide)."""
    pool = nn.AdaptiveAvgPool2d(out)
    path = _export_pool(pool, STATIC, size, tmp_path / 'pool', repo_root)
    assert _max_error(path, pool, (size, size)) < 1e-5
    ops = {n.op_type for n in onnx.load(path).graph.node}
    assert ('AveragePool' in ops) == (size % out == 0)


def test_pyramid_pooling_dynamic_export_is_exact_at_every_size(repo_root, tmp_path):
    pool = nn.AdaptiveAvgPool2d((6, 3))
    path = _export_pool(pool, DYNAMIC, 16, tmp_path / 'pool', repo_root)
    for size in [(16, 16), (4, 5), (7, 12), (24, 9)]:
        assert _max_error(path, pool, size) < 1e-5, size


def test_mmdeploys_own_pooling_rewriter_is_wrong_where_sizes_do_not_divide(
        repo_root, tmp_path, monkeypatch):
    """Why mmshallow.deploy replaces it (and that the checks above can fail)."""
    from mmdeploy.core import FUNCTION_REWRITER

    import mmshallow.deploy  # noqa: F401
    records = FUNCTION_REWRITER._registry._rewrite_records
    monkeypatch.setitem(records, POOL_REWRITES, [
        r for r in records[POOL_REWRITES] if not r['_object'].__module__.startswith('mmshallow')])
    pool = nn.AdaptiveAvgPool2d(6)
    path = _export_pool(pool, STATIC, 16, tmp_path / 'pool', repo_root)
    assert _max_error(path, pool, (16, 16)) == float('inf')  # 8x8 out


def test_segmentation_deploy_config_for_the_wrong_task_is_refused(segmentor, repo_root,
                                                                  tmp_path):
    from mmshallow.deploy.export import export
    with pytest.raises(ExportError, match='model config is an mmseg model.*'
                       r'segmentation_onnxruntime_\{static,dynamic\}'):
        export(segmentor[0], 'unused.pth', str(repo_root / STATIC_CLS), str(tmp_path / 'out'))
