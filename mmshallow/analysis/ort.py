"""ONNX Runtime on the CPU: sessions, latency, a classifier's logits.

Needs onnxruntime (and onnx for :func:`logits_model` / :func:`run_logits`), not mmdeploy:
:mod:`mmshallow.deploy` (mmdeploy export, INT8 quantization) and the benchmarks share these.
"""
from copy import deepcopy
from typing import Optional

import numpy as np
import torch

from .speed import latency_ms


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError('running ONNX models needs onnxruntime: pip install onnxruntime '
                          '(or bash tools/install.sh --deploy)') from err
    return onnxruntime


def ort_session(model, threads: Optional[int] = None):
    """A CPU ONNX Runtime session.

    Args:
        model (str | bytes | onnx.ModelProto): an ONNX file, a serialized model or a model.
        threads (int, optional): intra-op threads. Defaults (None or 0) to torch's
            (``torch.get_num_threads()``), so that ONNX Runtime and PyTorch timings compare.

    Returns:
        onnxruntime.InferenceSession: on ``CPUExecutionProvider``.
    """
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    if hasattr(model, 'SerializeToString'):
        model = model.SerializeToString()
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=['CPUExecutionProvider'])


def ort_run(session, inputs: np.ndarray) -> list:
    """The outputs of ``session`` (a one-input model) on ``inputs``."""
    return session.run(None, {session.get_inputs()[0].name: inputs})


def ort_latency_ms(session, inputs: np.ndarray, runs: int = 50, warmup: int = 10) -> float:
    """Median wall time (ms) of ``runs`` runs of ``session`` (a one-input model) on ``inputs``
    after ``warmup`` runs: :func:`mmshallow.analysis.speed.latency_ms` of the session."""
    feed = {session.get_inputs()[0].name: inputs}
    return latency_ms(lambda x: session.run(None, x), feed, runs, warmup)


def logits_model(onnx_model):
    """A copy of a classifier's ONNX model whose output is the input of mmdeploy's final
    Softmax (the logits); the model itself when it ends otherwise."""
    import onnx
    model = deepcopy(onnx_model)
    last = model.graph.node[-1]
    if last.op_type == 'Softmax':
        del model.graph.output[:]
        model.graph.output.append(onnx.helper.make_tensor_value_info(
            last.input[0], onnx.TensorProto.FLOAT, None))
    return model


def run_logits(onnx_path: str, inputs: np.ndarray) -> np.ndarray:
    """Run a classifier's ONNX model (a file) in ONNX Runtime on ``inputs`` and return its
    logits (:func:`logits_model`)."""
    import onnx
    return ort_run(ort_session(logits_model(onnx.load(onnx_path))), inputs)[0]
