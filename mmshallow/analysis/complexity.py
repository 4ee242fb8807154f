"""The one definition of a model's size: train-time parameters, deploy parameters, FLOPs and
depth, as every table of mmshallow reports them.

* **train-time parameters**: every parameter of the model as built for training
  (re-parameterization branches, BNs and VanillaNet's deep-training convs included);
* **deploy model**: :func:`deploy_model`, the model after :func:`mmshallow.reparameterize`
  (VanillaNet's deep training finished, lambda = 1) — what a ``*_deploy`` config builds and what
  :class:`~mmshallow.engine.ReparamHook` saves; BNs that no branch fuses stay;
* **deploy parameters** and **FLOPs**: of that model; FLOPs are mmengine's count at the given
  input, one multiply-accumulate = one FLOP (the papers' "FLOPs" / "MACs" convention);
* **depth**: the longest chain of conv / linear ops from input to output of the traced deploy
  model (:func:`depth`).
"""
import copy
import logging
from typing import Dict, Sequence

import torch
import torch.nn as nn

CONV_KINDS = ('aten::_convolution', 'aten::conv2d', 'aten::linear')


class TensorMode(nn.Module):
    """An mmpretrain classifier called as ``model(x, mode='tensor')``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


def count_params(model: nn.Module) -> int:
    """Number of parameters (buffers such as BN statistics are not parameters)."""
    return sum(p.numel() for p in model.parameters())


def deploy_model(model: nn.Module) -> nn.Module:
    """A fused copy of ``model`` in eval mode: deep training finished (VanillaNet's
    lambda = 1), every re-parameterizable module fused. ``model`` is left as it was."""
    from mmshallow.models import reparameterize
    from mmshallow.models.layers import set_act_lambda
    fused = copy.deepcopy(model).eval()
    set_act_lambda(fused, 1.0)
    return reparameterize(fused)


def count_flops(model: nn.Module, shape: Sequence[int]) -> int:
    """mmengine's FLOP count of ``model`` on one ``(3, *shape)`` input (multiply-accumulates).

    mmengine logs an "unsupported operator" line per op it does not count (elementwise gates,
    pooling): those are silenced here."""
    from mmengine.analysis import get_model_complexity_info
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        info = get_model_complexity_info(model, input_shape=(3, *shape), show_table=False,
                                         show_arch=False)
    finally:
        logger.setLevel(level)
    return int(info['flops'])


@torch.no_grad()
def depth(model: nn.Module, x: torch.Tensor) -> int:
    """Longest chain of conv / linear ops from input to output in the traced graph.

    A conv adds one to the depth of its data input only: kernels computed at run time (the
    gates of dynamic convs) do not lengthen the chain. VanillaNet's series activation is a
    depthwise conv and counts (its paper counts only the main convs: V-5 is "5 layers")."""
    graph = torch.jit.trace(model, x, check_trace=False).inlined_graph
    level: Dict[str, int] = {}
    for node in graph.nodes():
        if node.kind() in CONV_KINDS:
            d = level.get(next(node.inputs()).debugName(), 0) + 1
        else:
            d = max((level.get(v.debugName(), 0) for v in node.inputs()), default=0)
        for v in node.outputs():
            level[v.debugName()] = d
    return max(level.get(v.debugName(), 0) for v in graph.outputs())


def complexity(model: nn.Module, shape: Sequence[int], fused: nn.Module = None) -> dict:
    """``dict(train_params, deploy_params, flops, depth)`` of ``model`` at ``shape`` (H, W);
    ``fused`` is its :func:`deploy_model` when the caller has made it already."""
    fused = deploy_model(model) if fused is None else fused
    return dict(train_params=count_params(model), deploy_params=count_params(fused),
                flops=count_flops(fused, shape),
                depth=depth(fused, torch.randn(1, 3, *shape)))
