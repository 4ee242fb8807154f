import pytest
import torch
import torch.nn as nn

from mmshallow import MODELS, optimize_for_inference
from mmshallow.testing import randomize_bn_statistics, relative_error

SMALL_REPVGG = dict(type='mmshallow.RepVGG', arch=dict(num_blocks=[1, 2, 2, 1],
                                                       width_factor=[0.5, 0.5, 0.5, 0.5]))


def reference(cfg, x):
    model = randomize_bn_statistics(MODELS.build(cfg)).eval()
    with torch.no_grad():
        return model, model(x)


@pytest.mark.parametrize('cfg', [SMALL_REPVGG,
                                 dict(type='mmshallow.ParNet', arch='s', out_indices=(3, ))])
def test_torchscript_path_equals_the_model_at_other_batch_and_image_sizes(cfg):
    model, _ = reference(cfg, torch.randn(1, 3, 64, 64))
    train = randomize_bn_statistics(MODELS.build(cfg)).eval()
    train.load_state_dict(model.state_dict())
    fast = optimize_for_inference(model, torch.randn(1, 3, 64, 64))
    assert isinstance(fast, torch.jit.ScriptModule)
    x = torch.randn(3, 3, 96, 128)
    with torch.no_grad():
        assert relative_error(fast(x.contiguous(memory_format=torch.channels_last)),
                              train(x)) <= 1e-5


def test_batch_dependent_graph_falls_back_to_eager_with_a_warning():
    cfg = dict(type='mmshallow.ParameterNet', arch='ghostnet-1.0x', num_experts=2,
               out_indices=(9, ))
    model, _ = reference(cfg, torch.randn(1, 3, 32, 32))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
    with pytest.warns(UserWarning, match='depends on the batch size'):
        fast = optimize_for_inference(model, torch.randn(1, 3, 32, 32))
    assert not isinstance(fast, torch.jit.ScriptModule)
    with torch.no_grad():
        assert relative_error(fast(x), expected) <= 1e-5


def test_eager_backend_and_bad_arguments():
    model = randomize_bn_statistics(MODELS.build(SMALL_REPVGG)).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
        fast = optimize_for_inference(model, backend='eager')
        assert relative_error(fast(x), expected) <= 1e-5
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    with pytest.raises(ValueError, match="backend 'tensorrt' not in"):
        optimize_for_inference(model, x, backend='tensorrt')
    with pytest.raises(ValueError, match='pass example_input'):
        optimize_for_inference(model)


def test_inductor_backend_equals_the_model():
    model = randomize_bn_statistics(MODELS.build(SMALL_REPVGG)).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
        fast = optimize_for_inference(model, x, backend='inductor')
        assert relative_error(fast(x.contiguous(memory_format=torch.channels_last)),
                              expected) <= 1e-5


def test_inductor_backend_falls_back_to_torchscript_where_it_cannot_compile(monkeypatch):
    def no_compiler(*args, **kwargs):
        raise RuntimeError('InvalidCxxCompiler: No working C++ compiler found')

    monkeypatch.setattr(torch, 'compile', no_compiler)
    model = randomize_bn_statistics(MODELS.build(SMALL_REPVGG)).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
        with pytest.warns(UserWarning, match='inductor backend is not available here.*'
                          'No working C\\+\\+ compiler.*TorchScript backend'):
            fast = optimize_for_inference(model, x, backend='inductor')
        assert isinstance(fast, torch.jit.ScriptModule)
        assert relative_error(fast(x.contiguous(memory_format=torch.channels_last)),
                              expected) <= 1e-5
