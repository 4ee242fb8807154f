"""Gradient checkpointing of a block's forward (``with_cp``), the OpenMMLab way."""
from typing import Callable

import torch
import torch.utils.checkpoint as cp


def checkpointed(function: Callable, x: torch.Tensor, with_cp: bool) -> torch.Tensor:
    """``function(x)``; with ``with_cp``, and only while ``x`` requires grad (training), through
    ``torch.utils.checkpoint``: the activations inside are recomputed in backward instead of
    kept, trading compute for memory."""
    if with_cp and x.requires_grad:
        return cp.checkpoint(function, x, use_reentrant=False)
    return function(x)
