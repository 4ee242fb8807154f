"""What the official-checkpoint converters in ``tools/model_converters/`` share."""
import argparse
from typing import Sequence

import torch

from .safe_load import refuse_unsafe_checkpoint


def load_official_checkpoint(path: str):
    """``torch.load`` (safe ``weights_only``) of an official checkpoint; training scripts built
    on timm / DeiT store their ``argparse.Namespace`` beside the weights, which is allowed."""
    with refuse_unsafe_checkpoint(path, extra_globals=[argparse.Namespace]):
        return torch.load(path, map_location='cpu')


def unwrap_state_dict(checkpoint, fields: Sequence[str]) -> dict:
    """The state dict under the first of ``fields`` the checkpoint has, else the checkpoint."""
    for field in fields:
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(field), dict):
            return checkpoint[field]
    return checkpoint


def strip_ddp_prefix(key: str) -> str:
    return key[len('module.'):] if key.startswith('module.') else key


def save_converted(state_dict: dict, dst: str, source: str, deploy: bool, layout: str) -> None:
    """Write an mmpretrain checkpoint (``meta`` + ``state_dict``) and say what it holds."""
    torch.save(dict(meta=dict(converted_from=source, deploy=deploy), state_dict=state_dict), dst)
    print(f'{len(state_dict)} tensors, {layout} layout, written to {dst}')
