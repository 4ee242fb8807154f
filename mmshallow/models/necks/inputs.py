"""The input checks of mmshallow's necks: a wrong ``in_channels`` gets an error that says which
setting to change, not a shape mismatch deep inside a conv."""
from typing import Sequence

import torch
import torch.nn as nn


def check_input_channels(neck: nn.Module, inputs: Sequence[torch.Tensor],
                         in_channels: Sequence[int]) -> None:
    """Raise ``ValueError`` unless ``inputs`` (one map per level) have ``in_channels``."""
    channels = [x.shape[1] for x in inputs]
    if channels != list(in_channels):
        raise ValueError(
            f'{type(neck).__name__} was built for in_channels={list(in_channels)} but got '
            f'{len(inputs)} inputs with channels {channels}; set in_channels to the '
            "backbone's out_channels at its out_indices")


def last_input(neck: nn.Module, inputs, in_channels: int) -> torch.Tensor:
    """The map a classifier neck reads, the last of ``inputs`` (a backbone's tuple, or one
    tensor); ``ValueError`` unless it has ``in_channels``."""
    x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
    if x.shape[1] != in_channels:
        raise ValueError(f'{type(neck).__name__} was built for in_channels={in_channels} '
                         f'but got {x.shape[1]} channels; set in_channels to the '
                         "backbone's last out_channels")
    return x
