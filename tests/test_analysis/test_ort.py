"""mmshallow.analysis.ort: ONNX Runtime sessions, latency and logits, without mmdeploy."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn

pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')

from mmshallow.analysis.ort import (logits_model, ort_latency_ms, ort_run,  # noqa: E402
                                    ort_session, run_logits)
from mmshallow.utils.numerics import relative_error  # noqa: E402
from mmshallow.utils.torch_compat import onnx_export  # noqa: E402


class Classifier(nn.Module):
    """conv -> pool -> fc -> softmax: ends like mmdeploy's classifier exports."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 8, 3), nn.Linear(8, 5)

    def logits(self, x):
        return self.fc(self.conv(x).mean((2, 3)))

    def forward(self, x):
        return self.logits(x).softmax(-1)


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = Classifier().eval()
    path = tmp_path_factory.mktemp('ort') / 'model.onnx'
    onnx_export(model, (torch.rand(1, 3, 16, 16), ), str(path), input_names=['input'],
                dynamic_axes={'input': {0: 'batch'}}, opset_version=16)
    return model, str(path)


def test_a_session_from_a_path_bytes_or_a_model_runs_the_model(exported):
    model, path = exported
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        expected = model(x)
    loaded = onnx.load(path)
    for source in (path, loaded.SerializeToString(), loaded):
        session = ort_session(source, threads=1)
        got = torch.from_numpy(ort_run(session, x.numpy())[0])
        assert relative_error(got, expected) <= 1e-5


def test_logits_are_the_input_of_the_final_softmax(exported):
    model, path = exported
    loaded = onnx.load(path)
    assert loaded.graph.node[-1].op_type == 'Softmax'
    stripped = logits_model(loaded)
    assert stripped.graph.output[0].name == loaded.graph.node[-1].input[0]
    assert loaded.graph.output[0].name == loaded.graph.node[-1].output[0]  # a copy was changed
    x = torch.rand(3, 3, 16, 16)
    with torch.no_grad():
        expected = model.logits(x)
    for got in (run_logits(path, x.numpy()), ort_run(ort_session(stripped), x.numpy())[0]):
        assert relative_error(torch.from_numpy(got), expected, norm='l2') <= 1e-5


def test_latency_is_a_median_in_milliseconds(exported):
    _, path = exported
    ms = ort_latency_ms(ort_session(path), np.random.rand(1, 3, 16, 16).astype(np.float32),
                        runs=5, warmup=1)
    assert 0 < ms < 1e4


def test_importing_it_needs_no_mmdeploy():
    code = ('import sys; import mmshallow.analysis.ort; '
            "bad = [m for m in sys.modules if m.split('.')[0] == 'mmdeploy' "
            "or m == 'mmshallow.deploy']; assert not bad, bad")
    subprocess.run([sys.executable, '-c', code], check=True)
