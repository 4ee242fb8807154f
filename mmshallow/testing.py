"""Test helpers: calibrated BN statistics and tiny datasets, plus re-exports of what the tests
use from the library (library code imports these from their homes, never from here):
:func:`relative_error`, :func:`flatten_tensors` and :func:`randomize_bn_statistics`
(:mod:`mmshallow.utils.numerics`), :func:`count_params` (:mod:`mmshallow.analysis.complexity`)
and ``ImageNetClassifier`` (the catalogue's :class:`~mmshallow.models.catalogue.Classifier`:
backbone, global average pool, FC)."""
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from .analysis.complexity import count_params  # noqa: F401  (re-exported)
from .models.catalogue import Classifier as ImageNetClassifier  # noqa: F401  (re-exported)
from .utils.numerics import flatten_tensors, randomize_bn_statistics, relative_error  # noqa: F401


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
