"""What the official-checkpoint converters in ``tools/model_converters/`` share: loading the
official file, renaming its keys by rule tables, writing the result, the command line."""
import argparse
from typing import Callable, Optional, Pattern, Sequence, Tuple

import torch

from .checkpoint import save_weights_checkpoint
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


def unexpected_key(model: str, key: str, layout: str = '') -> KeyError:
    """The error for an official key no rule renames (``layout``: which rule table)."""
    where = f' ({layout} layout)' if layout else ''
    return KeyError(f'unexpected key in an official {model} checkpoint{where}: {key!r}')


def replace_prefix(name: str, table: Sequence[Tuple[str, str]]) -> Optional[str]:
    """``name`` with the first ``old`` prefix of ``table``'s ``(old, new)`` pairs that it
    starts with replaced by ``new``; None when it starts with none of them."""
    for old, new in table:
        if name.startswith(old):
            return new + name[len(old):]
    return None


def match_rule(name: str, rules: Sequence[Tuple[Pattern, str]],
               accept: Optional[Callable[[str], bool]] = None) -> Optional[Tuple[str, str]]:
    """``(target, rest)`` for the first ``(pattern, target)`` of ``rules`` whose regex matches
    the start of ``name`` (and whose ``rest``, what follows the match, ``accept`` takes):
    ``target`` expanded with the match's groups (``\\1``). None when no rule applies."""
    for pattern, target in rules:
        match = pattern.match(name)
        if match and (accept is None or accept(name[match.end():])):
            return match.expand(target), name[match.end():]
    return None


def save_converted(state_dict: dict, dst: str, source: str, deploy: bool, layout: str) -> None:
    """Write an mmpretrain checkpoint (``meta`` + ``state_dict``) and say what it holds."""
    save_weights_checkpoint(state_dict, dst, dict(converted_from=source), deploy=deploy)
    print(f'{len(state_dict)} tensors, {layout} layout, written to {dst}')


def run_converter(argv: Optional[Sequence[str]], model: str, convert: Callable[[dict], dict],
                  is_fused: Callable[[dict], bool], fields: Sequence[str], fused_layout: str,
                  train_layout: str = 'train-time', keys: Sequence[str] = (),
                  key_help: str = '') -> None:
    """The command line of a converter: ``SRC DST [--key KEY]``.

    Loads SRC, takes its state dict (``--key`` if given, else the first of ``fields`` it
    has), converts it and writes DST with ``meta.deploy`` = ``is_fused(state_dict)``.

    Args:
        argv (Sequence[str], optional): the arguments (default: ``sys.argv[1:]``).
        model (str): the family, for messages (``'RepVGG'``).
        convert (Callable): official state dict -> mmpretrain classifier state dict.
        is_fused (Callable): whether an official state dict has the fused layout.
        fields (Sequence[str]): where official checkpoints keep the state dict, in order.
        fused_layout, train_layout (str): what is printed for either layout.
        keys (Sequence[str]): the choices of ``--key`` (none: no ``--key`` option).
        key_help (str): its help.
    """
    parser = argparse.ArgumentParser(description=f'Convert an official {model} checkpoint.')
    parser.add_argument('src', help='official checkpoint (train-time or fused)')
    parser.add_argument('dst', help='output mmpretrain checkpoint')
    if keys:
        parser.add_argument('--key', choices=list(keys), help=key_help)
    args = parser.parse_args(argv)
    checkpoint = load_official_checkpoint(args.src)
    key = getattr(args, 'key', None)
    if key is not None:
        if key not in checkpoint:
            parser.error(f'{args.src} has no {key!r}; it holds: {", ".join(checkpoint)}')
        checkpoint = checkpoint[key]
    state_dict = unwrap_state_dict(checkpoint, fields)
    fused = is_fused(state_dict)
    save_converted(convert(state_dict), args.dst, f'official {model}', fused,
                   fused_layout if fused else train_layout)
