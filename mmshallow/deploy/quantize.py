"""INT8 post-training quantization of exported mmshallow models for ONNX Runtime on the CPU.

:func:`quantize` is the whole flow (``tools/quantize.py`` is its command line): fuse and export
the fp32 model through mmdeploy (:func:`mmshallow.deploy.export.export`, parity-checked),
calibrate on images drawn from the config's own dataloader and pipeline, write the fp32 and
INT8 ONNX models side by side, evaluate both in ONNX Runtime on the config's val set with the
codebase's metric (top-1, COCO bbox mAP, mIoU), time both, and write ``quantize.json``.

The INT8 model is ONNX Runtime's static QDQ format: per-channel symmetric int8 weights, uint8
activations with ranges from the calibration data (the U8S8 kernels that AVX512-VNNI runs).
Only the network itself is quantized (:func:`plan_quantization`): post-processing (softmax,
box decoding, NMS, a segmentor's resize of the logits to the input size and its ArgMax),
everything after proposal selection (a two-stage detector's RoI head) and
the per-sample kernels of dynamic convolutions (ParameterNet) stay in float.

Per-layer sensitivity (:func:`layer_sensitivity`): for every quantized conv / linear layer,
the SQNR of its output when its input is quantized with the calibrated scale and its weight
with the INT8 model's per-channel scales, all else in fp32 (its own quantization error, not the
error accumulated from the layers before it). ``keep_fp32=K`` leaves the K worst in float
(YOLOv6's partial quantization).
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from copy import deepcopy
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..analysis.ort import logits_model, ort_latency_ms, ort_session

CALIBRATION_METHODS = ('minmax', 'entropy', 'percentile')
CALIBRATION_SPLITS = ('train', 'val', 'test')
LAYER_OPS = ('Conv', 'Gemm', 'MatMul')
# ops after which a detector's tensors are proposals, not features
PROPOSAL_OPS = ('NonMaxSuppression', 'TopK', 'RoiAlign')
METRICS = {'mmpretrain': 'accuracy/top1', 'mmdet': 'coco/bbox_mAP', 'mmseg': 'mIoU'}
FLOAT_REASONS = {
    'dynamic_conv': 'dynamic convolution: its kernels are computed per sample',
    'dynamic_kernel': "a dynamic convolution's kernel path (gate, expert mix): per-sample "
                      'weights, not activations',
    'after_proposals': 'after proposal selection (TopK / NonMaxSuppression / RoiAlign)',
    'post_processing': 'after the last conv / linear layer (softmax, box decoding, NMS)',
}


class QuantizationError(ValueError):
    """The model, the calibration data or the request cannot give a correct INT8 model."""


def _quantization_api():
    try:
        import onnxruntime.quantization as ortq
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(
            'INT8 quantization needs onnxruntime and ml_dtypes: bash tools/install.sh --deploy '
            '(or pip install "mmshallow[deploy]")') from err
    return ortq


# ---- which nodes are quantized ------------------------------------------------------------

def _constants(graph) -> set:
    names = {init.name for init in graph.initializer}
    names.update(out for node in graph.node if node.op_type == 'Constant' for out in node.output)
    return names


def _walk(start: Iterable[int], edges: Dict[int, List[int]]) -> set:
    seen, stack = set(), list(start)
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(edges.get(i, ()))
    return seen


def plan_quantization(onnx_model) -> dict:
    """Split an ONNX graph into the nodes to quantize and the ones kept in float (with why).

    Quantized: the conv / linear layers with constant weights and every node they depend on,
    except a dynamic convolution, its kernel path (what computes its weights from the gate,
    but not its data input), and anything downstream of proposal selection. Returns
    ``quantize`` (node names), ``layers`` (the quantized Conv / Gemm / MatMul names, graph
    order) and ``float`` (reason -> node names; reasons in :data:`FLOAT_REASONS`).
    """
    graph = onnx_model.graph
    nodes = list(graph.node)
    consts = _constants(graph)
    producer = {out: i for i, node in enumerate(nodes) for out in node.output}
    parents = {i: [producer[t] for t in node.input if t in producer]
               for i, node in enumerate(nodes)}
    children: Dict[int, List[int]] = {}
    for i, ps in parents.items():
        for p in ps:
            children.setdefault(p, []).append(i)

    def ancestors(tensors):
        return _walk([producer[t] for t in tensors if t in producer], parents)

    dynamic = {i for i, n in enumerate(nodes)
               if n.op_type == 'Conv' and n.input[1] not in consts}
    kernel_path = set()
    for i in dynamic:
        node = nodes[i]
        kernel_path |= ancestors(node.input[1:]) - ancestors(node.input[:1])

    def constant_weight(node):
        return any(t in consts for t in node.input[:2]) if node.op_type == 'MatMul' \
            else node.input[1] in consts

    layers = [i for i, n in enumerate(nodes) if n.op_type in LAYER_OPS and
              i not in dynamic and i not in kernel_path and constant_weight(n)]
    after_proposals = _walk([i for i, n in enumerate(nodes) if n.op_type in PROPOSAL_OPS],
                            children)
    network = _walk(layers, parents)
    quantize = network - dynamic - kernel_path - after_proposals
    reasons = {'dynamic_conv': dynamic, 'dynamic_kernel': kernel_path - dynamic,
               'after_proposals': (after_proposals & network) - dynamic - kernel_path}
    reasons['post_processing'] = set(range(len(nodes))) - quantize - set().union(
        *reasons.values())
    const_nodes = {i for i, n in enumerate(nodes) if n.op_type == 'Constant'}
    name = lambda i: nodes[i].name or f'{nodes[i].op_type}_{i}'  # noqa: E731
    return dict(quantize=[name(i) for i in sorted(quantize - const_nodes)],
                layers=[name(i) for i in sorted(set(layers) - after_proposals)],
                float={r: [name(i) for i in sorted(s - const_nodes)]
                       for r, s in reasons.items() if s - const_nodes})


def sqnr_db(reference: np.ndarray, approx: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio 10 log10(|ref|^2 / |ref - approx|^2) in dB."""
    noise = float(np.square(reference.astype(np.float64) - approx).sum())
    signal = float(np.square(reference.astype(np.float64)).sum())
    return float('inf') if noise == 0 else 10 * np.log10(max(signal, 1e-30) / noise)


# ---- quantization of one ONNX model -------------------------------------------------------

def _check_calibration(batches: Sequence[np.ndarray]) -> None:
    if not len(batches):
        raise QuantizationError('the calibration set is empty: give at least one input batch')


def _preprocess(ortq, src: str, dst: str) -> None:
    """ONNX Runtime's pre-processing (shape inference, graph optimization) before quantizing;
    without symbolic shape inference where that one cannot follow the graph."""
    try:
        ortq.shape_inference.quant_pre_process(src, dst)
    except Exception:  # noqa: BLE001 - retried without the symbolic pass
        try:
            ortq.shape_inference.quant_pre_process(src, dst, skip_symbolic_shape=True)
        except Exception as err:  # noqa: BLE001
            raise QuantizationError(
                f'ONNX Runtime cannot prepare {src} for quantization: '
                f'{type(err).__name__}: {err}') from err


def quantize_onnx(fp32_path: str, int8_path: str, calibration: Sequence[np.ndarray],
                  method: str = 'minmax', keep_fp32: Sequence[str] = (),
                  sensitivity: bool = False, sensitivity_batches: int = 32,
                  reduce_range: bool = True) -> dict:
    """Statically quantize the fp32 ONNX model ``fp32_path`` to ``int8_path`` (QDQ).

    Args:
        fp32_path (str): a fused fp32 ONNX model (no BatchNormalization).
        int8_path (str): where the INT8 model goes (written only when quantization succeeds).
        calibration (Sequence[np.ndarray]): input batches of the model's input shape.
        method (str): 'minmax', 'entropy' or 'percentile' (ONNX Runtime's calibrators).
        keep_fp32 (Sequence[str]): names of quantizable layers to leave in float.
        sensitivity (bool): also measure :func:`layer_sensitivity`.
        sensitivity_batches (int): calibration batches the sensitivity uses.
        reduce_range (bool): 7-bit weights (int8 storage, values in [-64, 64]). ONNX
            Runtime's x86 U8S8 kernels multiply-add pairs of uint8 x int8 products into
            saturating int16 (VPMADDUBSW); with full-range weights the sums overflow and the
            model's error grows several-fold (a fused RepVGG-A0: logits SQNR 33 dB in the QDQ
            graph run in float, 16 dB with the integer kernels). Default True; False keeps
            8-bit weights (for runtimes without that saturation).

    Returns:
        dict: ``quantized_ops`` (op -> count), ``float_nodes`` (reason -> op counts),
        ``kept_fp32``, ``layers``, and ``sensitivity`` (worst first) when asked.
    """
    import onnx
    ortq = _quantization_api()
    if method not in CALIBRATION_METHODS:
        raise QuantizationError(f'calibration method {method!r} not in '
                                f'{", ".join(CALIBRATION_METHODS)}')
    _check_calibration(calibration)
    try:
        model = onnx.load(fp32_path)
    except Exception as err:  # noqa: BLE001 - any decoding failure
        raise QuantizationError(f'{fp32_path} is not a readable ONNX model: {err}') from err
    bns = sum(n.op_type == 'BatchNormalization' for n in model.graph.node)
    if bns:
        raise QuantizationError(
            f'{fp32_path} has {bns} BatchNormalization nodes: the model is not fused; '
            'quantize the ONNX model of the fused model (mmshallow.deploy.export)')
    with tempfile.TemporaryDirectory(prefix='mmshallow-quant-') as tmp:
        prep = osp.join(tmp, 'prep.onnx')
        _preprocess(ortq, fp32_path, prep)
        prep_model = onnx.load(prep)
        plan = plan_quantization(prep_model)
        if not plan['layers']:
            raise QuantizationError(
                f'{fp32_path} has no conv or linear layer with constant weights that ONNX '
                'Runtime could quantize')
        unknown = sorted(set(keep_fp32) - set(plan['layers']))
        if unknown:
            raise QuantizationError(f'keep_fp32 names {unknown}, which are not quantizable '
                                    f'layers of {fp32_path}: {plan["layers"]}')
        input_name = prep_model.graph.input[0].name

        class Reader(ortq.CalibrationDataReader):
            def __init__(self):
                self._batches = iter(calibration)

            def get_next(self):
                batch = next(self._batches, None)
                return None if batch is None else {input_name: batch}

        out = osp.join(tmp, 'int8.onnx')
        try:
            ortq.quantize_static(
                prep, out, Reader(), quant_format=ortq.QuantFormat.QDQ, per_channel=True,
                activation_type=ortq.QuantType.QUInt8, weight_type=ortq.QuantType.QInt8,
                reduce_range=reduce_range,
                nodes_to_quantize=[n for n in plan['quantize'] if n not in set(keep_fp32)],
                calibrate_method=getattr(ortq.CalibrationMethod, {
                    'minmax': 'MinMax', 'entropy': 'Entropy',
                    'percentile': 'Percentile'}[method]))
        except Exception as err:  # noqa: BLE001 - ONNX Runtime raises many kinds
            raise QuantizationError(f'ONNX Runtime cannot quantize {fp32_path}: '
                                    f'{type(err).__name__}: {err}') from err
        int8_model = onnx.load(out)
        ops = {}
        for node in int8_model.graph.node:
            if node.op_type == 'QuantizeLinear':
                continue
            ops[node.op_type] = ops.get(node.op_type, 0) + 1
        by_name = {n.name: n.op_type for n in prep_model.graph.node}
        report = dict(
            method=method, calibration_batches=len(calibration), reduce_range=reduce_range,
            quantized_layers=len(plan['layers']) - len(keep_fp32),
            quantize_linear_nodes=sum(n.op_type == 'QuantizeLinear'
                                      for n in int8_model.graph.node),
            float_nodes={FLOAT_REASONS[r]: _op_counts(names, by_name)
                         for r, names in plan['float'].items()},
            kept_fp32=list(keep_fp32), layers=plan['layers'])
        if sensitivity:
            report['sensitivity'] = layer_sensitivity(
                prep_model, int8_model, calibration[:sensitivity_batches])
        os.makedirs(osp.dirname(osp.abspath(int8_path)), exist_ok=True)
        shutil.move(out, int8_path)
    return report


def _op_counts(names, op_of) -> dict:
    counts: Dict[str, int] = {}
    for name in names:
        op = op_of.get(name, '?')
        counts[op] = counts.get(op, 0) + 1
    return dict(sorted(counts.items()))


# ---- per-layer sensitivity ----------------------------------------------------------------

def _dequantized(int8_model, tensor: str):
    """(dequantize function, None) for the DequantizeLinear producing ``tensor``: the scale,
    zero point and axis ONNX Runtime chose for it; None where ``tensor`` is not quantized."""
    from onnx import numpy_helper
    inits = {i.name: i for i in int8_model.graph.initializer}
    producer = {out: n for n in int8_model.graph.node for out in n.output}
    dq = producer.get(tensor)
    if dq is None or dq.op_type != 'DequantizeLinear':
        return None
    scale = numpy_helper.to_array(inits[dq.input[1]]).astype(np.float32)
    zero = numpy_helper.to_array(inits[dq.input[2]]) if len(dq.input) > 2 else np.zeros(
        (), np.int8)
    axis = next((a.i for a in dq.attribute if a.name == 'axis'), 1)
    source = dq.input[0]
    if source in inits:  # a constant (weight): its quantized values are stored
        q = numpy_helper.to_array(inits[source]).astype(np.float32)
        shape = [1] * q.ndim
        if scale.ndim:
            shape[axis] = -1
        value = (q - zero.astype(np.float32).reshape(shape)) * scale.reshape(shape)
        return lambda _: value
    # an activation: quantize -> dequantize with its calibrated scale and zero point
    lo, hi = (0, 255) if zero.dtype == np.uint8 else (-128, 127)
    s, z = float(scale), float(zero)
    return lambda x: (np.clip(np.rint(x / s) + z, lo, hi) - z) * s


def _attr(node, name, default):
    from onnx import helper
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _run_layer(node, x, w, b):
    x, w = torch.from_numpy(np.array(x)), torch.from_numpy(np.array(w))
    b = None if b is None else torch.from_numpy(np.array(b))
    if node.op_type == 'Conv':
        pads = list(_attr(node, 'pads', [0] * 4))
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        return F.conv2d(x, w, b, list(_attr(node, 'strides', [1, 1])), 0,
                        list(_attr(node, 'dilations', [1, 1])),
                        _attr(node, 'group', 1)).numpy()
    if node.op_type == 'Gemm':
        a = x.T if _attr(node, 'transA', 0) else x
        bw = w.T if _attr(node, 'transB', 0) else w
        y = _attr(node, 'alpha', 1.0) * (a @ bw)
        return (y if b is None else y + _attr(node, 'beta', 1.0) * b).numpy()
    return (x @ w).numpy()  # MatMul


def layer_sensitivity(fp32_model, int8_model, batches: Sequence[np.ndarray]) -> List[dict]:
    """SQNR (dB) of each quantized conv / linear layer's output against fp32 when only its own
    input and weight are quantized (as in ``int8_model``), measured on ``batches``; worst first.
    """
    from onnx import numpy_helper
    inits = {i.name: numpy_helper.to_array(i) for i in fp32_model.graph.initializer}
    int8_nodes = {n.name: n for n in int8_model.graph.node}
    layers = []
    for node in fp32_model.graph.node:
        q = int8_nodes.get(node.name)
        if node.op_type not in LAYER_OPS or q is None or \
                (node.op_type == 'Conv' and np.ndim(inits.get(node.input[1], 0)) != 4):
            continue
        weight_idx = 1 if node.input[1] in inits else 0
        data_idx = 1 - weight_idx
        fx = _dequantized(int8_model, q.input[data_idx])
        fw = _dequantized(int8_model, q.input[weight_idx])
        if fx is None or fw is None:
            continue
        layers.append((node, data_idx, weight_idx, fx, fw(None)))
    if not layers:
        return []
    import onnx
    probe = deepcopy(fp32_model)
    outputs = {o.name for o in probe.graph.output}
    for node, data_idx, *_ in layers:
        name = node.input[data_idx]
        if name not in outputs:
            probe.graph.output.append(onnx.ValueInfoProto(name=name))
            outputs.add(name)
    session = ort_session(probe.SerializeToString())
    names = [o.name for o in session.get_outputs()]
    sums = {node.name: [0.0, 0.0] for node, *_ in layers}
    for batch in batches:
        values = dict(zip(names, session.run(None, {session.get_inputs()[0].name: batch})))
        for node, data_idx, weight_idx, fx, w_hat in layers:
            x = values[node.input[data_idx]]
            w = inits[node.input[weight_idx]]
            b = inits.get(node.input[2]) if len(node.input) > 2 else None
            args = (x, w) if data_idx == 0 else (w, x)
            ref = _run_layer(node, *args, b)
            args_q = (fx(x), w_hat) if data_idx == 0 else (w_hat, fx(x))
            err = ref - _run_layer(node, *args_q, b)
            sums[node.name][0] += float(np.square(ref.astype(np.float64)).sum())
            sums[node.name][1] += float(np.square(err.astype(np.float64)).sum())
    rows = [dict(node=node.name, op=node.op_type,
                 sqnr_db=float('inf') if sums[node.name][1] == 0 else
                 10 * np.log10(max(sums[node.name][0], 1e-30) / sums[node.name][1]))
            for node, *_ in layers]
    return sorted(rows, key=lambda r: r['sqnr_db'])


# ---- the whole flow: config + checkpoint -> fp32 and INT8 ONNX, evaluated and timed ---------

def _loader(model_cfg, split: str, shuffle: bool, seed: int = 0):
    from mmengine.runner import Runner
    cfg = deepcopy(model_cfg.get(f'{split}_dataloader'))
    if not cfg:
        raise QuantizationError(f'the model config has no {split}_dataloader to draw images '
                                f'from (calibration splits: {", ".join(CALIBRATION_SPLITS)})')
    cfg.update(batch_size=1, num_workers=0, persistent_workers=False,
               sampler=dict(type='DefaultSampler', shuffle=shuffle, seed=seed))
    cfg.pop('batch_sampler', None)
    try:
        return Runner.build_dataloader(cfg, seed=seed)
    except Exception as err:  # noqa: BLE001 - dataset classes raise many kinds
        dataset = cfg.get('dataset', {})
        raise QuantizationError(
            f"cannot build the {split} set (data_root={dataset.get('data_root')!r}, "
            f"data_prefix={dataset.get('data_prefix')!r}): {type(err).__name__}: {err}"
        ) from err


def calibration_inputs(model_cfg, data_preprocessor, split: str, num: int,
                       expected_hw=None, seed: int = 0):
    """``num`` preprocessed input batches (numpy, 1 image each) drawn at random (seeded) from
    the config's ``{split}_dataloader`` with its pipeline, and the first image's path.

    Raises :class:`QuantizationError` when the split has fewer than ``num`` images or (with
    ``expected_hw``, a static export) when an image comes out at another size."""
    loader = _loader(model_cfg, split, shuffle=True, seed=seed)
    available = len(loader.dataset)
    if available < num:
        raise QuantizationError(
            f'the {split} calibration set has {available} images, fewer than the '
            f'{num} asked for (calib_num): lower calib_num or give a larger set')
    batches, first_path = [], None
    with torch.no_grad():
        for data in loader:
            if len(batches) == num:
                break
            inputs = data_preprocessor(data, False)['inputs']
            _check_hw(inputs, expected_hw, f'the {split} pipeline')
            batches.append(inputs.float().numpy())
            if first_path is None:
                first_path = data['data_samples'][0].metainfo.get('img_path')
    return batches, first_path


def _check_hw(inputs, expected_hw, where: str) -> None:
    if expected_hw is not None and tuple(inputs.shape[-2:]) != tuple(expected_hw):
        h, w = inputs.shape[-2:]
        raise QuantizationError(
            f'{where} gives {h}x{w} inputs (after the data_preprocessor) but the static '
            f'export shape is {expected_hw[0]}x{expected_hw[1]}: use a deploy config (or '
            f'--shape) of {h}x{w}, or a pipeline that resizes to '
            f'{expected_hw[0]}x{expected_hw[1]}')


def _evaluator(model_cfg, dataset):
    from mmengine.evaluator import Evaluator
    evaluator = Evaluator(deepcopy(model_cfg.val_evaluator))
    evaluator.dataset_meta = dataset.metainfo
    return evaluator


def _evaluate_classifier(model_cfg, data_preprocessor, paths: Dict[str, str], expected_hw):
    """Top-1 (the config's val_evaluator) of each ONNX classifier over the val set, and the
    SQNR of each model's logits against the first (fp32) model's."""
    import onnx
    loader = _loader(model_cfg, 'val', shuffle=False)
    sessions = {k: ort_session(logits_model(onnx.load(p)).SerializeToString())
                for k, p in paths.items()}
    evaluators = {k: _evaluator(model_cfg, loader.dataset) for k in paths}
    logits = {k: [] for k in paths}
    with torch.no_grad():
        for data in loader:
            data = data_preprocessor(data, False)
            _check_hw(data['inputs'], expected_hw, 'the val pipeline')
            x = data['inputs'].float().numpy()
            for key, session in sessions.items():
                out = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x})[0])
                logits[key].append(out.numpy())
                samples = deepcopy(data['data_samples'])
                for sample, row in zip(samples, out):
                    sample.set_pred_score(row.softmax(-1)).set_pred_label(row.argmax(-1))
                evaluators[key].process(samples, data)
    reference = np.concatenate(logits[next(iter(paths))])
    return {k: dict(metrics=evaluators[k].evaluate(len(loader.dataset)),
                    output_sqnr_db=sqnr_db(reference, np.concatenate(logits[k])))
            for k in paths}


def _evaluate_detector(model_cfg, task, paths: Dict[str, str], expected_hw):
    """COCO bbox metrics (the config's val_evaluator) of each ONNX detector over the val set,
    through mmdeploy's backend model (its post-processing, rescaling to the original image)."""
    loader = _loader(model_cfg, 'val', shuffle=False)
    results = {}
    for key, path in paths.items():
        backend = task.build_backend_model(
            [path], data_preprocessor_updater=task.update_data_preprocessor)
        evaluator = _evaluator(model_cfg, loader.dataset)
        with torch.no_grad():
            for data in loader:
                if expected_hw is not None:
                    _check_hw(backend.data_preprocessor(deepcopy(data), False)['inputs'],
                              expected_hw, 'the val pipeline')
                evaluator.process(backend.test_step(data), data)
        results[key] = dict(metrics=evaluator.evaluate(len(loader.dataset)))
    return results


def _evaluate_segmentor(model_cfg, task, paths: Dict[str, str], expected_hw):
    """mIoU (the config's val_evaluator, mmseg's IoUMetric) of each ONNX segmentor over the val
    set, its label maps packed as mmdeploy's backend model packs them (resized to the original
    image), and the SQNR of each model's logits against the first (fp32) model's."""
    import onnx

    from .export import segmentation_outputs_model
    loader = _loader(model_cfg, 'val', shuffle=False)
    # mmdeploy's backend model: its data preprocessor and its packing of the label maps
    backend = task.build_backend_model(
        [next(iter(paths.values()))], data_preprocessor_updater=task.update_data_preprocessor)
    sessions = {k: ort_session(segmentation_outputs_model(onnx.load(p)))
                for k, p in paths.items()}
    evaluators = {k: _evaluator(model_cfg, loader.dataset) for k in paths}
    sums = {k: [0.0, 0.0] for k in paths}  # |fp32 logits|^2, |logits - fp32 logits|^2
    with torch.no_grad():
        for data in loader:
            data = backend.data_preprocessor(data, False)
            _check_hw(data['inputs'], expected_hw, 'the val pipeline')
            x = data['inputs'].float().numpy()
            reference = None
            for key, session in sessions.items():
                outputs = session.run(None, {session.get_inputs()[0].name: x})
                logits = outputs[-1].astype(np.float64)
                reference = logits if reference is None else reference
                sums[key][0] += float(np.square(reference).sum())
                sums[key][1] += float(np.square(reference - logits).sum())
                samples = backend.pack_result(torch.from_numpy(outputs[0]),
                                              deepcopy(data['data_samples']))
                evaluators[key].process(samples, data)
    # IoUMetric gives float32 percentages rounded to 2 decimals
    return {k: dict(metrics={name: round(float(value), 2) for name, value in
                             evaluators[k].evaluate(len(loader.dataset)).items()},
                    output_sqnr_db=float('inf') if sums[k][1] == 0 else
                    10 * np.log10(max(sums[k][0], 1e-30) / sums[k][1]))
            for k in paths}


def quantize(config: str, checkpoint: str, deploy_config: str, work_dir: str,
             calib_num: int = 128, calib_split: str = 'train', cfg_options: Optional[dict] = None,
             keep_fp32: int = 0, method: str = 'minmax', shape=None, runs: int = 50,
             warmup: int = 10, device: str = 'cpu', reduce_range: bool = True) -> dict:
    """Export ``config`` + ``checkpoint`` fused (fp32) and as INT8 for ONNX Runtime, evaluate
    and time both; returns the report, also written to ``work_dir/quantize.json``.

    Args:
        config (str): an mmpretrain classifier, mmdet detector or mmseg segmentor config.
        checkpoint (str): its checkpoint (train-time or deploy).
        deploy_config (str): a deploy config of the same codebase (configs/deploy/*.py).
        work_dir (str): where ``end2end.onnx`` (fp32), ``end2end_int8.onnx``, with
            ``keep_fp32=K`` also ``end2end_int8_keep{K}.onnx``, and ``quantize.json`` go. They
            are written together at the end: a failed run leaves none of them.
        calib_num (int): calibration images, drawn (seeded) from ``{calib_split}_dataloader``
            with its pipeline. Default: 128.
        calib_split (str): 'train' (default), 'val' or 'test'.
        cfg_options (dict, optional): overrides merged into the model config.
        keep_fp32 (int): leave the K layers with the worst sensitivity in float.
        method (str): calibration: 'minmax' (default), 'entropy' or 'percentile'.
        shape (tuple[int, int], optional): (height, width) export size for a static deploy
            config (its ``input_shape`` otherwise).
        runs, warmup (int): latency: median of ``runs`` runs after ``warmup``, batch 1, torch's
            thread count.
        reduce_range (bool): 7-bit weights (see :func:`quantize_onnx`). Default: True.
    """
    from mmdeploy.apis import build_task_processor
    from mmdeploy.utils import get_input_shape, is_dynamic_shape, load_config
    from mmengine.registry import init_default_scope

    from ..models.layers.reparam import NotFusableYetError
    from ..utils import refuse_unsafe_checkpoint
    from .checks import ExportError
    from .export import check_shape, check_task, export

    if not isinstance(calib_num, int) or calib_num < 1:
        raise QuantizationError(f'calib_num must be an integer >= 1, got {calib_num!r}')
    if calib_split not in CALIBRATION_SPLITS:
        raise QuantizationError(f'calib_split {calib_split!r} not in '
                                f'{", ".join(CALIBRATION_SPLITS)}')
    if method not in CALIBRATION_METHODS:
        raise QuantizationError(f'calibration method {method!r} not in '
                                f'{", ".join(CALIBRATION_METHODS)}')
    if not isinstance(keep_fp32, int) or keep_fp32 < 0:
        raise QuantizationError(f'keep_fp32 must be an integer >= 0, got {keep_fp32!r}')
    _quantization_api()
    deploy_cfg, model_cfg = load_config(deploy_config, config)
    if cfg_options:
        model_cfg.merge_from_dict(cfg_options)
    codebase = check_task(model_cfg, deploy_cfg)
    if shape is not None:
        check_shape(model_cfg, deploy_cfg, shape)
        deploy_cfg.onnx_config.input_shape = [shape[1], shape[0]]  # mmdeploy: (width, height)
    static = not is_dynamic_shape(deploy_cfg)
    input_wh = get_input_shape(deploy_cfg)
    expected_hw = (input_wh[1], input_wh[0]) if static and input_wh else None

    init_default_scope(codebase)
    task = build_task_processor(model_cfg, deploy_cfg, device)
    try:
        with refuse_unsafe_checkpoint(checkpoint):
            model = task.build_pytorch_model(checkpoint)  # mmdeploy fuses model.backbone
    except NotFusableYetError as err:
        raise ExportError(f'cannot export an unfused model: {err}') from err
    calibration, first_img = calibration_inputs(model_cfg, model.data_preprocessor, calib_split,
                                                calib_num, expected_hw)

    os.makedirs(work_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.quantize-', dir=work_dir)
    try:
        # a merged model config for export(), which loads configs from files
        model_cfg.dump(osp.join(tmp, 'model_cfg.py'))
        deploy_cfg.dump(osp.join(tmp, 'deploy_cfg.py'))
        exported = export(osp.join(tmp, 'model_cfg.py'), checkpoint,
                          osp.join(tmp, 'deploy_cfg.py'), osp.join(tmp, 'export'), img=first_img,
                          device=device)
        if not exported['ok']:
            raise QuantizationError(f'the fp32 ONNX model does not match PyTorch: {exported}')
        names = dict(fp32='end2end.onnx', int8='end2end_int8.onnx')
        staged = dict(fp32=exported['onnx'], int8=osp.join(tmp, names['int8']))
        info = quantize_onnx(staged['fp32'], staged['int8'], calibration, method,
                             sensitivity=True, reduce_range=reduce_range)
        kept = []
        if keep_fp32:
            if keep_fp32 >= len(info['layers']):
                raise QuantizationError(
                    f'keep_fp32={keep_fp32} would keep every one of the '
                    f'{len(info["layers"])} quantizable layers in float')
            kept = [row['node'] for row in info['sensitivity'][:keep_fp32]]
            key = f'int8_keep{keep_fp32}'
            names[key] = f'end2end_int8_keep{keep_fp32}.onnx'
            staged[key] = osp.join(tmp, names[key])
            info_kept = quantize_onnx(staged['fp32'], staged[key], calibration, method,
                                      keep_fp32=kept, reduce_range=reduce_range)
        if codebase == 'mmpretrain':
            evaluation = _evaluate_classifier(model_cfg, model.data_preprocessor, staged,
                                              expected_hw)
        elif codebase == 'mmseg':
            evaluation = _evaluate_segmentor(model_cfg, task, staged, expected_hw)
        else:
            evaluation = _evaluate_detector(model_cfg, task, staged, expected_hw)
        metric = METRICS[codebase]
        models = {}
        for key, path in staged.items():
            row = dict(onnx=osp.join(work_dir, names[key]),
                       size_mb=round(osp.getsize(path) / 2**20, 3),
                       latency_ms=ort_latency_ms(ort_session(path), calibration[0], runs,
                                                 warmup), **evaluation[key])
            row['metric'] = float(row['metrics'][metric])
            models[key] = row
        for row in models.values():
            row['speedup'] = models['fp32']['latency_ms'] / row['latency_ms']
            row['metric_drop'] = models['fp32']['metric'] - row['metric']
        report = dict(
            config=config, checkpoint=checkpoint, deploy_config=deploy_config,
            codebase=codebase, metric=metric,
            input_shape=list(calibration[0].shape),
            calibration=dict(split=calib_split, images=calib_num, method=method, seed=0),
            models=models, quantization=info, export=exported, keep_fp32=kept)
        if keep_fp32:
            report['quantization_keep_fp32'] = info_kept
        report['export']['onnx'] = models['fp32']['onnx']
        with open(osp.join(tmp, 'quantize.json'), 'w') as f:
            json.dump(report, f, indent=2)
        for key, path in staged.items():
            os.replace(path, osp.join(work_dir, names[key]))
        os.replace(osp.join(tmp, 'quantize.json'), osp.join(work_dir, 'quantize.json'))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def markdown(report: dict) -> str:
    """The report as a Markdown table: metric, latency, speed-up and size of each model."""
    name = report['metric'].split('/')[-1]
    lines = [f'| model | {name} | drop | latency b1 (ms) | speed-up | size (MB) |',
             '|---|---|---|---|---|---|']
    for key, row in report['models'].items():
        lines.append(f"| {key} | {row['metric']:.4g} | {row['metric_drop']:+.4g} | "
                     f"{row['latency_ms']:.2f} | {row['speedup']:.2f}x | {row['size_mb']:.2f} |")
    worst = report['quantization'].get('sensitivity', [])[:5]
    if worst:
        lines.append('')
        lines.append('most sensitive layers (SQNR of the layer alone, dB): ' + ', '.join(
            f"{r['node']} {r['sqnr_db']:.1f}" for r in worst))
    floats = report['quantization']['float_nodes']
    if floats:
        lines.append('kept in float: ' + '; '.join(
            f'{reason}: {sum(ops.values())} nodes' for reason, ops in floats.items()))
    return '\n'.join(lines)
