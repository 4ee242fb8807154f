"""tools/export.py: mmdeploy export of fused models, checked in ONNX Runtime."""
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

pytest.importorskip('mmdeploy')
pytest.importorskip('onnxruntime')
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

from mmshallow import set_act_lambda  # noqa: E402
from mmshallow.deploy import ExportError, assert_fused_graph  # noqa: E402
from mmshallow.deploy.export import export, run_logits  # noqa: E402
from mmshallow.testing import randomize_bn_statistics  # noqa: E402
from mmshallow.utils.numerics import relative_error  # noqa: E402
from mmshallow.utils.torch_compat import onnx_export  # noqa: E402

STATIC_CLS = 'configs/deploy/classification_onnxruntime_static.py'
DYNAMIC_CLS = 'configs/deploy/classification_onnxruntime_dynamic.py'
STATIC_DET = 'configs/deploy/detection_onnxruntime_static.py'
DYNAMIC_DET = 'configs/deploy/detection_onnxruntime_dynamic.py'
QUICKSTART = 'configs/quickstart/yolox_parnet-s_1xb8-20e_shapes.py'


def build(repo_root, config):
    cfg = Config.fromfile(str(repo_root / config))
    init_default_scope(cfg.default_scope)
    registry = __import__(f'{cfg.default_scope}.registry', fromlist=['MODELS']).MODELS
    torch.manual_seed(0)
    model = registry.build(cfg.model)
    model.init_weights()
    return model


def save(model, path):
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def test_repvgg_classifier_static_export_matches_pytorch(repo_root, tmp_path, load_tool):
    model = randomize_bn_statistics(build(repo_root, 'configs/repvgg/repvgg-a0_8xb32_in1k.py'))
    ckpt = save(model, tmp_path / 'a0.pth')
    tool = load_tool('export')
    assert tool.main([str(repo_root / 'configs/repvgg/repvgg-a0_8xb32_in1k.py'), ckpt,
                      str(repo_root / STATIC_CLS), '--work-dir', str(tmp_path / 'out')]) == 0
    report = json.loads((tmp_path / 'out' / 'export.json').read_text())
    assert report['ok'] and report['logits_relative_error'] <= 1e-4
    assert report['input_shape'] == [3, 224, 224]
    # one Conv per fused RepVGG block (stem + 1+2+4+14+1 blocks) and nothing else
    assert report['ops']['Conv'] == 22 and 'BatchNormalization' not in report['ops']


def test_parameternet_classifier_static_export_matches_pytorch(repo_root, tmp_path, load_tool):
    """Dynamic convs compute their kernels per sample: they export at batch 1 (static)."""
    config = 'configs/parameternet/parameternet-600m_8xb128_in1k.py'
    model = randomize_bn_statistics(build(repo_root, config))
    report = export(str(repo_root / config), save(model, tmp_path / 'p.pth'),
                    str(repo_root / STATIC_CLS), str(tmp_path / 'out'))
    assert report['ok'] and report['logits_relative_error'] <= 1e-4, report
    assert 'BatchNormalization' not in report['ops']


def test_vanillanet_classifier_dynamic_export_runs_at_other_sizes(repo_root, tmp_path,
                                                                  load_tool):
    from mmshallow.deploy import check_exportable
    from mmshallow.models.layers.fold_bn import fold_batchnorms
    config = 'configs/vanillanet/vanillanet-5_8xb128_in1k.py'
    model = randomize_bn_statistics(build(repo_root, config))
    set_act_lambda(model, 1.0)  # deep training finished: the 1x1 convs merge (the default)
    ckpt = save(model, tmp_path / 'v5.pth')
    report = export(str(repo_root / config), ckpt, str(repo_root / DYNAMIC_CLS),
                    str(tmp_path / 'out'))
    assert report['ok'], report
    fused = fold_batchnorms(check_exportable(model.eval()))
    x = torch.randn(2, 3, 160, 192)
    with torch.no_grad():
        expected = fused(x, mode='tensor')
    got = torch.from_numpy(run_logits(report['onnx'], x.numpy()))
    assert relative_error(got, expected, norm='l2') <= 1e-4  # LOGITS_RTOL's definition


def test_yolox_export_gives_the_same_boxes_as_pytorch(repo_root, tmp_path, load_tool,
                                                      yolox_quickstart_checkpoint):
    report = export(str(repo_root / QUICKSTART), yolox_quickstart_checkpoint,
                    str(repo_root / STATIC_DET), str(tmp_path / 'out'), shape=(256, 256))
    assert report['ok'], report
    assert report['torch_detections'] >= 20 and report['ort_detections'] >= 20
    assert report['torch_unmatched'] == report['ort_unmatched'] == 0
    assert 'BatchNormalization' not in report['ops']
    assert report['ops']['NonMaxSuppression'] == 1  # NMS in the graph, standard op


def test_yolox_dynamic_export_refuses_a_parnet_size_not_divisible_by_32(
        repo_root, tmp_path, load_tool, yolox_quickstart_checkpoint):
    with pytest.raises(ExportError, match=r'divisible by 32 \(dynamic-shape export.*250x250'):
        export(str(repo_root / QUICKSTART), yolox_quickstart_checkpoint,
               str(repo_root / DYNAMIC_DET), str(tmp_path / 'out'), shape=(250, 250))


@pytest.mark.slow
def test_faster_rcnn_exports_standard_ops_only_and_runs_in_plain_onnxruntime(
        repo_root, tmp_path, faster_rcnn_checkpoint):
    config = 'configs/parnet_faster-rcnn_coco.py'
    ckpt = faster_rcnn_checkpoint
    report = export(str(repo_root / config), ckpt, str(repo_root / STATIC_DET),
                    str(tmp_path / 'out'), shape=(320, 320))
    assert report['ok'] and 'note' in report  # graph checked; final boxes reported only
    graph = onnx.load(report['onnx'])
    assert {node.domain for node in graph.graph.node} <= {'', 'ai.onnx'}
    assert report['ops']['RoiAlign'] >= 1 and 'BatchNormalization' not in report['ops']
    # plain ONNX Runtime, no custom-op library registered
    session = ort.InferenceSession(report['onnx'], providers=['CPUExecutionProvider'])
    dets, labels = session.run(None, {'input': np.random.rand(1, 3, 320, 320).astype('f4')})
    assert dets.shape[0] == 1 and dets.shape[2] == 5 and labels.shape == dets.shape[:2]


@pytest.mark.parametrize('aligned,sampling_ratio', [(True, 0), (False, 2)])
def test_roi_align_exports_to_the_standard_op_and_matches_mmcv(repo_root, tmp_path, aligned,
                                                               sampling_ratio):
    from mmcv.ops import RoIAlign
    from mmdeploy.apis.onnx import export
    from mmdeploy.utils import load_config

    import mmshallow.deploy  # noqa: F401
    layer = RoIAlign((7, 7), spatial_scale=0.25, sampling_ratio=sampling_ratio,
                     aligned=aligned)
    feats = torch.randn(2, 8, 32, 40)
    rois = torch.tensor([[0, 3., 5., 60., 90.], [1, 10., 12., 30., 20.], [0, 0., 0., 2., 3.]])
    deploy_cfg = load_config(str(repo_root / STATIC_DET))[0]
    export(layer, (feats, rois), str(tmp_path / 'roi'), backend='onnxruntime',
           context_info=dict(deploy_cfg=deploy_cfg), input_names=['feats', 'rois'],
           output_names=['out'], opset_version=16)
    session = ort.InferenceSession(str(tmp_path / 'roi.onnx'),
                                   providers=['CPUExecutionProvider'])
    got = session.run(None, dict(feats=feats.numpy(), rois=rois.numpy()))[0]
    assert [n.op_type for n in onnx.load(str(tmp_path / 'roi.onnx')).graph.node].count(
        'RoiAlign') == 1
    np.testing.assert_allclose(got, layer(feats, rois).numpy(), rtol=1e-5, atol=1e-5)


# ---- bad input ----------------------------------------------------------------------------

def test_roi_align_below_opset_16_is_refused(repo_root, tmp_path):
    from mmcv.ops import RoIAlign
    from mmdeploy.apis.onnx import export
    from mmdeploy.utils import load_config

    import mmshallow.deploy  # noqa: F401
    deploy_cfg = load_config(str(repo_root / STATIC_DET))[0]
    deploy_cfg.onnx_config.opset_version = 11
    with pytest.raises(ExportError, match='needs opset_version >= 16.*has 11'):
        export(RoIAlign((7, 7), 0.25, 0), (torch.randn(1, 8, 16, 16), torch.tensor(
            [[0, 1., 1., 20., 20.]])), str(tmp_path / 'roi'), backend='onnxruntime',
            context_info=dict(deploy_cfg=deploy_cfg), input_names=['feats', 'rois'],
            output_names=['out'], opset_version=11)


def test_unfused_vanillanet_is_refused(repo_root, tmp_path, load_tool):
    config = 'configs/vanillanet/vanillanet-5_8xb128_in1k.py'
    model = build(repo_root, config)
    set_act_lambda(model, 0.5)  # half way through deep training
    ckpt = save(model, tmp_path / 'v5.pth')
    with pytest.raises(ExportError, match='cannot export an unfused model'):
        export(str(repo_root / config), ckpt, str(repo_root / STATIC_CLS),
               str(tmp_path / 'out'))


def test_deploy_config_for_the_wrong_task_is_refused(repo_root, tmp_path, load_tool):
    with pytest.raises(ExportError, match='model config is an mmdet model.*'
                       r'detection_onnxruntime_\{static,dynamic\}'):
        export(str(repo_root / QUICKSTART), 'unused.pth', str(repo_root / STATIC_CLS),
               str(tmp_path / 'out'))


def test_missing_files_exit_2(repo_root, tmp_path, load_tool, capsys):
    assert load_tool('export').main([str(repo_root / QUICKSTART), str(tmp_path / 'no.pth'),
                                     str(repo_root / STATIC_DET)]) == 2
    assert 'no such file' in capsys.readouterr().err


def test_graph_check_catches_an_unfused_export(repo_root, tmp_path):
    """The checks that the tests above rely on can fail: a train-time RepVGG exported as is
    keeps its identity-branch BNs, and with every BN folded it still has a conv per branch."""
    from mmshallow import MODELS
    from mmshallow.deploy import ConvCallCounter
    from mmshallow.models.layers.fold_bn import fold_batchnorms
    x = torch.randn(1, 3, 64, 64)
    fused = MODELS.build(dict(type='mmshallow.RepVGG', arch='A0', deploy=True)).eval()
    with torch.no_grad(), ConvCallCounter(fused) as counter:
        fused(x)
    assert counter.calls == 22
    train = MODELS.build(dict(type='mmshallow.RepVGG', arch='A0')).eval()
    onnx_export(train, (x, ), str(tmp_path / 'train.onnx'))
    with pytest.raises(ExportError, match='17 BatchNormalization nodes'):
        assert_fused_graph(onnx.load(str(tmp_path / 'train.onnx')), counter.calls)
    onnx_export(fold_batchnorms(train), (x, ), str(tmp_path / 'folded.onnx'))
    with pytest.raises(ExportError, match='has 44 Conv nodes but the fused model makes 22'):
        assert_fused_graph(onnx.load(str(tmp_path / 'folded.onnx')), counter.calls)
