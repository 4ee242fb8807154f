"""Export an mmshallow model (mmdet detector, mmpretrain classifier or mmseg segmentor) to
ONNX through mmdeploy, fused, and check the ONNX model in ONNX Runtime against the fused
PyTorch model (``tools/export.py`` is its command line).

Checks (:func:`export` raises :class:`ExportError` on a bad request and reports the parity):

* the graph holds no BatchNormalization and one Conv per conv call of the fused model;
* classification: relative error of the logits (L2 norm,
  :func:`mmshallow.utils.numerics.relative_error` with ``norm='l2'``) <= ``LOGITS_RTOL``;
* detection: every PyTorch detection scoring >= ``match_score`` has an ONNX Runtime detection
  of the same class with IoU >= ``BOX_IOU`` and a score within ``SCORE_ATOL`` (and the other way
  round). Two-stage detectors: reported only, since mmdeploy's RPN runs one NMS over all pyramid
  levels where mmdet runs one per level, so the proposals differ by design;
* segmentation: the logits (the decode head's, resized to the input size: the input of the
  graph's final ArgMax with ``with_argmax=True``, the output otherwise) within ``LOGITS_RTOL``
  (L2) of the fused PyTorch model's ``encode_decode`` on the same input, and the label maps
  (the ONNX model's ArgMax output vs the PyTorch logits' argmax) agreeing on at least
  ``LABEL_AGREEMENT`` of the pixels.
"""
import json
import os.path as osp
from copy import deepcopy

import numpy as np
import torch

from ..analysis.ort import run_logits
from ..models.layers.fold_bn import fold_batchnorms
from ..models.layers.reparam import NotFusableYetError
from ..utils import refuse_unsafe_checkpoint
from ..utils.numerics import relative_error
from .checks import (ConvCallCounter, ExportError, assert_fused_graph, check_export_input_shape,
                     check_exportable)

CODEBASE_TASKS = {'mmdet': 'ObjectDetection', 'mmpretrain': 'Classification',
                  'mmseg': 'Segmentation'}
DEPLOY_CONFIGS = {'mmdet': 'configs/deploy/detection_onnxruntime_{static,dynamic}.py',
                  'mmpretrain': 'configs/deploy/classification_onnxruntime_{static,dynamic}.py',
                  'mmseg': 'configs/deploy/segmentation_onnxruntime_{static,dynamic}.py'}
LOGITS_RTOL = 1e-4
#: segmentation: the least fraction of pixels whose ONNX Runtime label is PyTorch's
LABEL_AGREEMENT = 0.999
BOX_IOU = 0.99
SCORE_ATOL = 1e-3


def model_codebase(model_cfg) -> str:
    """'mmdet', 'mmpretrain' or 'mmseg': the scope a model config builds in."""
    scope = model_cfg.get('default_scope')
    if scope in CODEBASE_TASKS:
        return scope
    raise ExportError(
        f'cannot tell which codebase the model config is for: default_scope={scope!r}, '
        f'expected one of {sorted(CODEBASE_TASKS)}')


def check_task(model_cfg, deploy_cfg) -> str:
    """The codebase; errors if the deploy config is for another codebase or task."""
    codebase = model_codebase(model_cfg)
    cb_cfg = deploy_cfg.get('codebase_config', {})
    if cb_cfg.get('type') != codebase or cb_cfg.get('task') != CODEBASE_TASKS[codebase]:
        raise ExportError(
            f'the deploy config is for {cb_cfg.get("type")!r} {cb_cfg.get("task")!r} but the '
            f'model config is an {codebase} model ({CODEBASE_TASKS[codebase]}): use '
            f'{DEPLOY_CONFIGS[codebase]}')
    modules = list(cb_cfg.get('module', []))
    if 'mmshallow.deploy' not in modules:
        # Without it torch picks the dynamo exporter and only the backbone is fused.
        cb_cfg['module'] = modules + ['mmshallow.deploy']
    return codebase


def check_shape(model_cfg, deploy_cfg, shape) -> None:
    """Refuse an input size the backbone cannot take (ParNet: sides divisible by 32) before
    the pipeline pads it silently."""
    from mmdeploy.utils import is_dynamic_shape
    from mmengine.registry import MODELS, init_default_scope

    init_default_scope(model_cfg.default_scope)
    backbone = MODELS.build(deepcopy(model_cfg.model.backbone))
    check_export_input_shape(backbone, shape, dynamic=is_dynamic_shape(deploy_cfg))


def example_image(work_dir: str, size: int = 320, codebase: str = 'mmdet') -> str:
    """An example input when none is given: one image of the generated shapes set (nothing
    to download; mmdet's, mmpretrain's and mmseg's wheels ship no demo image), for mmseg the
    segmentation set's."""
    from mmshallow.data_generators import generate_shapes_coco, generate_shapes_segmentation
    generate = generate_shapes_segmentation if codebase == 'mmseg' else generate_shapes_coco
    info = generate(osp.join(work_dir, 'example'), num_train=0, num_val=1, image_size=size)
    return osp.join(info['val_img_dir'], '000001.jpg')


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` (n, 4) with every box of ``b`` (m, 4)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter + 1e-12)


def _unmatched(src, dst, min_score: float) -> int:
    """How many detections of ``src`` scoring >= min_score have no twin in ``dst``."""
    keep = src['scores'] >= min_score
    boxes, scores, labels = src['bboxes'][keep], src['scores'][keep], src['labels'][keep]
    if not len(boxes):
        return 0
    if not len(dst['bboxes']):
        return len(boxes)
    iou = _iou(boxes, dst['bboxes'])
    same = ((labels[:, None] == dst['labels'][None]) & (iou >= BOX_IOU) &
            (np.abs(scores[:, None] - dst['scores'][None]) <= SCORE_ATOL))
    return int((~same.any(axis=1)).sum())


def _best_label_only(pred) -> dict:
    """Drop detections whose box also comes with another label at a higher score: mmdeploy's
    NMS runs per class (a box may stay in two classes), mmdet's keeps each box's best class."""
    iou = _iou(pred['bboxes'], pred['bboxes'])
    beaten = ((iou >= BOX_IOU) & (pred['labels'][:, None] != pred['labels'][None]) &
              (pred['scores'][None] > pred['scores'][:, None])).any(axis=1)
    return {k: v[~beaten] for k, v in pred.items()}


def compare_detections(torch_pred, ort_pred, min_score: float, keep_top_k: int) -> dict:
    """Match two sets of detections (dicts of numpy bboxes, scores, labels) both ways.

    The ONNX model keeps at most ``keep_top_k`` detections (mmdeploy's post-processing), the
    PyTorch one may keep more: when the ONNX output is full, PyTorch detections scoring below
    its lowest score (plus the tolerance) are not asked for.
    """
    floor = min_score
    if len(ort_pred['scores']) >= keep_top_k:
        floor = max(floor, float(ort_pred['scores'].min()) + SCORE_ATOL)
    torch_unmatched = _unmatched(torch_pred, ort_pred, floor)
    ort_unmatched = _unmatched(_best_label_only(ort_pred), torch_pred, min_score)
    return dict(torch_detections=int((torch_pred['scores'] >= floor).sum()),
                ort_detections=int((ort_pred['scores'] >= min_score).sum()),
                torch_unmatched=torch_unmatched, ort_unmatched=ort_unmatched,
                ok=torch_unmatched == 0 and ort_unmatched == 0)


def _instances(sample) -> dict:
    pred = sample.pred_instances
    return {k: getattr(pred, k).detach().cpu().numpy() for k in ('bboxes', 'scores', 'labels')}


def segmentation_outputs_model(onnx_model):
    """A copy of a segmentor's ONNX model that also outputs its logits: the input of the final
    ArgMax (``with_argmax=True``) as a second output; the model itself when it ends in the
    logits (``with_argmax=False``)."""
    import onnx
    model = deepcopy(onnx_model)
    producer = {out: node for node in model.graph.node for out in node.output}
    last = producer.get(model.graph.output[0].name)
    if last is not None and last.op_type == 'ArgMax':
        model.graph.output.append(onnx.helper.make_tensor_value_info(
            last.input[0], onnx.TensorProto.FLOAT, None))
    return model


def run_segmentation(session, inputs: np.ndarray):
    """(labels (n, H, W), logits (n, classes, H, W)) of a segmentor's ONNX model opened with
    :func:`segmentation_outputs_model`."""
    outputs = session.run(None, {session.get_inputs()[0].name: inputs})
    logits = outputs[-1]
    if logits.ndim != 4 or logits.shape[1] < 2 or not np.issubdtype(logits.dtype, np.floating):
        raise ExportError(
            f'the segmentation ONNX model gives no logits (n, classes, H, W) to check: last '
            f'output {logits.dtype} {list(logits.shape)}; mmshallow checks multi-class '
            'decode heads (out_channels >= 2)')
    labels = outputs[0][:, 0] if len(outputs) > 1 else logits.argmax(1)
    return labels, logits


def segmentation_parity(model, data, onnx_path) -> dict:
    """Logits and label maps of ONNX Runtime vs the fused PyTorch model on the exported input
    (``data``: mmdeploy's ``create_input``, preprocessed), with the conv calls counted."""
    import onnx

    from ..analysis.ort import ort_session
    inputs = data['inputs']
    # as mmdeploy's BaseSegmentor.forward rewriter: the head resizes to the input size
    metas = [dict(sample.metainfo, img_shape=tuple(inputs.shape[2:]))
             for sample in data['data_samples']]
    with torch.no_grad(), ConvCallCounter(model) as convs:
        ref = model.encode_decode(inputs, metas)
    graph = onnx.load(onnx_path)
    ops = assert_fused_graph(graph, convs.calls)
    labels, logits = run_segmentation(ort_session(segmentation_outputs_model(graph)),
                                      inputs.numpy())
    if logits.shape != tuple(ref.shape):
        raise ExportError(f'the ONNX logits are {list(logits.shape)}, PyTorch\'s '
                          f'{list(ref.shape)}')
    err = relative_error(torch.from_numpy(logits), ref, norm='l2')
    agreement = float((torch.from_numpy(labels) == ref.argmax(1)).double().mean())
    return dict(ops=dict(sorted(ops.items())), logits_relative_error=err,
                label_agreement=agreement, logits_shape=list(ref.shape),
                ok=err <= LOGITS_RTOL and agreement >= LABEL_AGREEMENT)


def _parity(task, model, data, onnx_path, codebase, deploy_cfg, match_score) -> dict:
    """The graph checks and the classifier's logits or the detector's boxes."""
    import onnx
    backend = task.build_backend_model([onnx_path],
                                       data_preprocessor_updater=task.update_data_preprocessor)
    with torch.no_grad(), ConvCallCounter(model) as convs:
        torch_out = model.test_step(deepcopy(data))
    with torch.no_grad():
        ort_out = backend.test_step(deepcopy(data))
    ops = assert_fused_graph(onnx.load(onnx_path), convs.calls)
    report = dict(ops=dict(sorted(ops.items())))
    if codebase == 'mmpretrain':
        inputs = model.data_preprocessor(deepcopy(data), False)['inputs']
        with torch.no_grad():
            ref = model(inputs, mode='tensor')
        got = torch.from_numpy(run_logits(onnx_path, inputs.numpy()))
        err = relative_error(got, ref, norm='l2')
        report.update(logits_relative_error=err, ok=err <= LOGITS_RTOL)
    else:
        keep_top_k = deploy_cfg.codebase_config.post_processing.keep_top_k
        report.update(compare_detections(_instances(torch_out[0]), _instances(ort_out[0]),
                                         match_score, keep_top_k), match_score=match_score)
        if getattr(model, 'with_rpn', False):
            # mmdeploy's RPN runs one NMS over all pyramid levels, mmdet's one per level: the
            # proposals, hence the final boxes, legitimately differ. Reported, not required.
            report.update(boxes_match=report.pop('ok'), ok=True,
                          note='two-stage: proposals differ by design (mmdeploy RPN NMS over '
                               'all levels at once), final boxes reported, not required to '
                               'match')
    return report


def export(config, checkpoint, deploy_config, work_dir, img=None, shape=None, device='cpu',
           match_score=0.3) -> dict:
    """Export, check, and return the report (also written to ``work_dir/export.json``)."""
    from mmdeploy.apis import build_task_processor, torch2onnx
    from mmdeploy.utils import get_input_shape, load_config

    deploy_cfg, model_cfg = load_config(deploy_config, config)
    codebase = check_task(model_cfg, deploy_cfg)
    if shape is not None:
        check_shape(model_cfg, deploy_cfg, shape)
        deploy_cfg.onnx_config.input_shape = [shape[1], shape[0]]  # mmdeploy: (width, height)
    if not img:
        # segmentation: an image of the static export size (the shapes quickstart's otherwise)
        size = max(get_input_shape(deploy_cfg) or [128]) if codebase == 'mmseg' else 320
        img = example_image(work_dir, size, codebase)

    save_file = deploy_cfg.onnx_config.get('save_file', 'end2end.onnx')
    try:
        with refuse_unsafe_checkpoint(checkpoint):
            torch2onnx(img, work_dir, save_file, deploy_cfg, model_cfg, checkpoint, device)
    except NotFusableYetError as err:  # mmdeploy fuses model.backbone before we see it
        raise ExportError(f'cannot export an unfused model: {err}') from err
    onnx_path = osp.join(work_dir, save_file)

    # The fused PyTorch model, exactly as exported.
    task = build_task_processor(model_cfg, deploy_cfg, device)
    model = task.build_pytorch_model(checkpoint)
    fold_batchnorms(check_exportable(model))

    data, _ = task.create_input(img, get_input_shape(deploy_cfg),
                                data_preprocessor=getattr(model, 'data_preprocessor', None))
    if codebase == 'mmseg':
        parity = segmentation_parity(model, data, onnx_path)
    else:
        parity = _parity(task, model, data, onnx_path, codebase, deploy_cfg, match_score)
    report = dict(onnx=onnx_path, codebase=codebase, input_shape=list(data['inputs'][0].shape),
                  **parity)
    with open(osp.join(work_dir, 'export.json'), 'w') as f:
        json.dump(report, f, indent=2)
    return report
