"""Helpers to check and measure a fused model against its train-time original (used by the
tests and by ``tools/reparameterize.py``, ``complexity.py`` and ``benchmark.py``)."""
from typing import Any, List

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm


@torch.no_grad()
def randomize_bn_statistics(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm random affine parameters and running statistics.

    Freshly built BNs (mean 0, var 1, weight 1, bias 0) are the identity and would hide a wrong
    fusion of their statistics.
    """
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            n = module.num_features

            def rand(low, high):
                return torch.rand(n, generator=generator) * (high - low) + low

            module.running_mean.copy_(rand(-0.2, 0.2))
            module.running_var.copy_(rand(0.5, 2.0))
            if module.affine:
                module.weight.copy_(rand(0.5, 1.5))
                module.bias.copy_(rand(-0.2, 0.2))
    return model


@torch.no_grad()
def calibrate_bn(model: nn.Module, batches, forward=None) -> nn.Module:
    """Set every BatchNorm's running statistics to the average over ``batches`` (train-mode
    forwards, nothing else changes): a randomly initialised model then behaves like a trained
    one numerically (activations of sane size through every layer). ``forward(model, batch)``
    defaults to ``model(batch)``. Returns the model in eval mode."""
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average
    model.train()
    for norm in norms:  # also those a backbone's norm_eval keeps in eval mode
        norm.train()
    for batch in batches:
        forward(model, batch) if forward else model(batch)
    return model.eval()


def flatten_tensors(outputs: Any) -> List[torch.Tensor]:
    """All tensors in a (nested) tuple/list/dict output, in order."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if isinstance(outputs, (list, tuple)):
        return [t for item in outputs for t in flatten_tensors(item)]
    return []


def relative_error(actual: Any, expected: Any) -> float:
    """``max |actual - expected| / max |expected|`` over all tensors of two outputs."""
    actual, expected = flatten_tensors(actual), flatten_tensors(expected)
    if len(actual) != len(expected) or not expected:
        raise ValueError(f'outputs differ in structure: {len(actual)} vs {len(expected)} tensors')
    worst = 0.0
    for a, e in zip(actual, expected):
        if a.shape != e.shape:
            raise ValueError(f'output shapes differ: {tuple(a.shape)} vs {tuple(e.shape)}')
        scale = e.detach().abs().max().clamp_min(1e-12)
        worst = max(worst, float((a.detach() - e.detach()).abs().max() / scale))
    return worst



class RandomImages(torch.utils.data.Dataset):
    """``n`` seeded random 3x16x16 images with labels 0/1 as ``dict(inputs=, labels=)``, for
    tiny mmengine ``Runner`` tests (default collate)."""

    def __init__(self, n: int = 8, seed: int = 1):
        generator = torch.Generator().manual_seed(seed)
        self.images = torch.randn(n, 3, 16, 16, generator=generator)
        self.labels = torch.randint(0, 2, (n, ), generator=generator)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return dict(inputs=self.images[i], labels=self.labels[i])


class ImageNetClassifier(nn.Module):
    """backbone (last output) -> global average pool -> 1000-class FC: the form of the papers'
    parameter counts and of the benchmarks."""

    def __init__(self, backbone: nn.Module, num_classes: int = 1000):
        super().__init__()
        self.backbone = backbone
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(backbone.out_channels[-1], num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.backbone(x)[-1]).flatten(1))


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
