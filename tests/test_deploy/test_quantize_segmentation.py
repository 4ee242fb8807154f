"""mmshallow.deploy.quantize for mmseg segmentors: INT8 UPerNet + RepVGG-A0 calibrated on the
config's train images, evaluated (mIoU) in ONNX Runtime; tools/quantize.py is its CLI."""
import importlib.util
import json

import pytest

pytest.importorskip('mmdeploy')
pytest.importorskip('onnxruntime')
pytest.importorskip('ml_dtypes')
pytest.importorskip('mmseg')
import onnx  # noqa: E402

from mmshallow.deploy.quantize import FLOAT_REASONS, QuantizationError, quantize  # noqa: E402

DEPLOY_128 = 'configs/deploy/segmentation_onnxruntime_static-128x128.py'
DEPLOY_512 = 'configs/deploy/segmentation_onnxruntime_static.py'


@pytest.fixture(scope='module')
def segmentor(repo_root, tmp_path_factory):
    """The calibrated UPerNet of tests/test_tools/test_export_segmentation.py."""
    path = repo_root / 'tests' / 'test_tools' / 'test_export_segmentation.py'
    spec = importlib.util.spec_from_file_location('export_segmentation_cases', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_segmentor(tmp_path_factory.mktemp('segmentor'))


@pytest.mark.needs_mmcv_ops
def test_segmentor_fp32_and_int8_side_by_side_with_miou(repo_root, tmp_path, segmentor,
                                                        load_tool):
    work = tmp_path / 'out'
    assert load_tool('quantize').main([*segmentor, str(repo_root / DEPLOY_128), '--work-dir',
                                       str(work), '--calib-num', '4', '--runs', '3']) == 0
    report = json.loads((work / 'quantize.json').read_text())
    assert sorted(p.name for p in work.iterdir()) == [
        'end2end.onnx', 'end2end_int8.onnx', 'quantize.json']
    assert report['codebase'] == 'mmseg' and report['metric'] == 'mIoU'
    assert report['input_shape'] == [1, 3, 128, 128]
    models = report['models']
    for row in models.values():
        assert {'mIoU', 'aAcc', 'mAcc'} <= set(row['metrics']) and 0 <= row['metric'] <= 100
        assert row['latency_ms'] > 0
    assert models['fp32']['output_sqnr_db'] == float('inf')
    # logits against fp32's: really quantized. Low on this random-weight model (its fused
    # RepVGG layers have a per-layer SQNR of ~17 dB and the errors add up over 35 layers)
    assert 0 < models['int8']['output_sqnr_db'] < float('inf')
    assert models['int8']['size_mb'] < models['fp32']['size_mb'] / 3
    export = report['export']
    assert export['ok'] and export['label_agreement'] >= 0.999
    # the whole network quantized; the head's resize to the input size and ArgMax stay float
    info = report['quantization']
    assert info['quantized_layers'] == len(info['layers']) == 35
    assert info['float_nodes'] == {FLOAT_REASONS['post_processing']: {'ArgMax': 1, 'Resize': 1}}
    graph = onnx.load(str(work / 'end2end_int8.onnx')).graph
    producer = {out: node for node in graph.node for out in node.output}
    argmax = next(node for node in graph.node if node.op_type == 'ArgMax')
    resize = producer[argmax.input[0]]
    assert resize.op_type == 'Resize' and producer[resize.input[0]].op_type != 'QuantizeLinear'


@pytest.mark.needs_mmcv_ops
def test_static_size_other_than_the_pipelines_is_refused(repo_root, tmp_path, segmentor):
    with pytest.raises(QuantizationError, match='the train pipeline gives 128x128 inputs .* '
                       'the static export shape is 512x512'):
        quantize(*segmentor, str(repo_root / DEPLOY_512), str(tmp_path / 'out'), calib_num=2)
    assert not (tmp_path / 'out').exists() or not list((tmp_path / 'out').iterdir())
