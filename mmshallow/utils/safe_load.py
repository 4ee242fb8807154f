"""Let ``torch.load(weights_only=True)`` (torch >= 2.6's default) read mmengine's checkpoints.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``, and its checkpoints carry the
message hub's ``HistoryBuffer`` objects (numpy arrays inside), so resuming fails on today's
torch. Instead of turning the safe loader off, this allow-lists exactly the globals mmengine
writes. One of them is ``builtins.getattr`` (a ``HistoryBuffer`` pickles its statistics methods
as ``getattr(HistoryBuffer, 'mean')``); it is mapped to a restricted getattr that resolves only
those methods, so the loader's guarantees stay intact for every other object.
"""
import os
import pickle
import re
from contextlib import contextmanager

import numpy as np
import torch

_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


def _history_buffer():
    from mmengine.logging.history_buffer import HistoryBuffer
    return HistoryBuffer


def history_buffer_getattr(obj, name):
    """``getattr`` for unpickling, restricted to ``HistoryBuffer``'s statistics methods."""
    history_buffer = _history_buffer()
    allowed = _STATISTICS | set(history_buffer._statistics_methods)
    if obj is history_buffer and name in allowed and name in vars(history_buffer):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'weights_only load: getattr({obj!r}, {name!r}) is not allowed; only '
        f'HistoryBuffer statistics methods ({", ".join(sorted(allowed))}) may be resolved')


def _numpy_globals():
    core = np._core if hasattr(np, '_core') else np.core
    reconstruct = core.multiarray._reconstruct
    scalar = core.multiarray.scalar
    module = 'numpy._core.multiarray' if hasattr(np, '_core') else 'numpy.core.multiarray'
    found = [np.ndarray, np.dtype, (reconstruct, f'{module}._reconstruct'),
             (scalar, f'{module}.scalar')]
    # numpy 2 checkpoints read under numpy 1 and the reverse name the other module.
    for other in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        if other != module:
            found += [(reconstruct, f'{other}._reconstruct'), (scalar, f'{other}.scalar')]
    # dtypes are pickled as numpy.dtype(...) calls, but their classes appear in some pickles.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [cls for cls in vars(dtypes).values()
                  if isinstance(cls, type) and issubclass(cls, np.dtype)]
    return found


def mmengine_safe_globals():
    """The exact list of globals mmengine 0.10.x checkpoints need beyond torch's defaults."""
    return [_history_buffer(), (history_buffer_getattr, 'builtins.getattr'),
            *_numpy_globals()]


def allow_mmengine_checkpoints() -> None:
    """Register :func:`mmengine_safe_globals` with ``torch.serialization`` (idempotent)."""
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:  # torch < 2.4 loads everything without weights_only
        add_safe_globals(mmengine_safe_globals())


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint holds a pickled object that the safe loader refuses to build."""


class CheckpointFileError(RuntimeError):
    """The file is not a (complete) PyTorch checkpoint."""


_NOT_A_CHECKPOINT = ('PytorchStreamReader', 'central directory', 'invalid load key',
                     'Ran out of input', 'unpickling stack underflow')


def describe_unsafe_checkpoint(path: str, err: Exception) -> str:
    """What was refused in ``path`` and what a user who trusts the file can do."""
    found = re.search(r'GLOBAL ([\w.]+)', str(err)) or re.search(r'getattr\([^)]*\)', str(err))
    what = found.group(1) if found and found.groups() else (found.group(0) if found else
                                                            str(err).splitlines()[0])
    return (f'refused to load {path}: it contains a pickled object that is not a tensor, a '
            f'plain container or mmengine training state ({what}); unpickling it could run '
            'arbitrary code, so the safe loader (torch.load weights_only=True) stops. If you '
            'trust the file and its source, re-save its weights once in a trusted environment '
            f'(python -c "import torch; ckpt = torch.load(\'{path}\', weights_only=False); '
            "torch.save({'state_dict': ckpt.get('state_dict', ckpt)}, 'clean.pth')\") and use "
            'clean.pth, or allow that one class with torch.serialization.add_safe_globals.')


@contextmanager
def refuse_unsafe_checkpoint(path: str):
    """Errors while loading ``path``, made clear: torch's safe-loader refusal becomes an
    :class:`UnsafeCheckpointError` that names the refused object and the way out; a truncated
    file or one that is no checkpoint at all becomes a :class:`CheckpointFileError`."""
    if os.path.isfile(path):
        with open(path, 'rb') as f:
            magic = f.read(4)
        # torch.save writes a zip archive; legacy (torch < 1.6) files start with a pickle
        if magic[:4] != b'PK\x03\x04' and magic[:1] != b'\x80':
            raise CheckpointFileError(
                f'{path} is not a PyTorch checkpoint: it starts with {magic!r}, not a zip '
                'archive (torch.save / mmengine) nor a legacy pickle. Expected a .pth file '
                'written by torch.save.')
    try:
        yield
    except FileNotFoundError:
        raise
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as err:
        text = str(err)
        if isinstance(err, pickle.UnpicklingError) and 'Weights only load failed' in text or \
                'getattr(' in text and 'is not allowed' in text:
            raise UnsafeCheckpointError(describe_unsafe_checkpoint(path, err)) from err
        if isinstance(err, (EOFError, OSError)) or any(s in text for s in _NOT_A_CHECKPOINT):
            raise CheckpointFileError(
                f'{path} is not a readable PyTorch checkpoint (truncated, still being written, '
                f'or another format): {text.splitlines()[0] if text else type(err).__name__}. '
                'Expected a file written by torch.save / mmengine (a zip archive).') from err
        raise
