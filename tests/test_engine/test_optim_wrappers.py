"""Mixed precision: bf16 autocast training on the CPU (tools/train.py --amp), fused bf16 models."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmshallow import MODELS, reparameterize
from mmshallow.engine import CPUAmpOptimWrapper
from mmshallow.models.layers.reparam import unwrap_model
from mmshallow.testing import randomize_bn_statistics, relative_error


class LossProbe(Hook):
    """Records the loss of every training iteration and the dtype the first conv computes in
    during training (validation runs in float32)."""

    def __init__(self, runner):
        self.losses, self.dtypes, self.training = [], set(), False
        model = unwrap_model(runner.model)
        conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
        conv.register_forward_hook(
            lambda m, i, o: self.dtypes.add(o.dtype) if self.training else None)
        runner.register_hook(self, priority='LOWEST')

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.training = True

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.training = False
        self.losses.append(float(outputs['loss']))


def amp_train(load_tool, cfg, tmp_path):
    cfg.dump(str(tmp_path / 'cfg.py'))
    train = load_tool('train')
    args = train.parse_args([str(tmp_path / 'cfg.py'), '--amp'])
    cfg = train.build_config(args)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper' and cfg.optim_wrapper.dtype == \
        'bfloat16'
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    probe = LossProbe(runner)
    runner.train()
    assert isinstance(runner.optim_wrapper, CPUAmpOptimWrapper)
    assert probe.dtypes == {torch.bfloat16}  # the forward ran under bf16 autocast
    assert len(probe.losses) == 2 and all(math.isfinite(x) for x in probe.losses)
    return runner


def test_classification_config_trains_in_bf16(load_tool, repo_root, tmp_path,
                                              make_tiny_imagenet, shrink_classification_config):
    cfg = shrink_classification_config(
        Config.fromfile(str(repo_root / 'configs/repvgg/repvgg-a0_8xb32_in1k.py')),
        make_tiny_imagenet(tmp_path / 'imagenet'), tmp_path / 'wd')
    amp_train(load_tool, cfg, tmp_path)


@pytest.mark.needs_mmcv_ops
@pytest.mark.slow
def test_detection_config_trains_in_bf16(load_tool, repo_root, tmp_path, tiny_coco,
                                         shrink_detection_config):
    cfg = shrink_detection_config(
        Config.fromfile(str(repo_root / 'configs/parnet_yolo_coco.py')), tiny_coco,
        tmp_path / 'wd')
    cfg.model.backbone.arch = 's'
    cfg.model.neck.in_channels = [192, 384, 1280]
    cfg.train_cfg.val_interval = 2  # train only
    amp_train(load_tool, cfg, tmp_path)


def test_bad_amp_dtype():
    with pytest.raises(ValueError, match="dtype must be 'bfloat16' or 'float16', got 'int8'"):
        CPUAmpOptimWrapper(dtype='int8', optimizer=torch.optim.SGD([torch.zeros(1)], lr=0.1))


@pytest.mark.parametrize('cfg', [dict(type='mmshallow.RepVGG', arch='A0'),
                                 dict(type='mmshallow.ParNet', arch='s')])
def test_fused_model_in_bf16_matches_fp32(cfg):
    """bf16 keeps 8 mantissa bits (relative rounding 2^-9 ~ 2e-3 per op); over ~20 layers the
    errors add up to ~1e-2, so 5e-2 relative on the output features is the bf16 tolerance."""
    model = reparameterize(randomize_bn_statistics(MODELS.build(cfg)).eval())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            actual = model(x)
    assert all(t.dtype == torch.bfloat16 for t in actual)
    error = relative_error([t.float() for t in actual], expected)
    assert 1e-4 < error <= 5e-2  # really computed in bf16, and within its precision
