"""Let ``torch.load(weights_only=True)`` (torch >= 2.6's default) read mmengine's checkpoints.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``, and its checkpoints carry the
message hub's ``HistoryBuffer`` objects (numpy arrays inside), so resuming fails on today's
torch. Instead of turning the safe loader off, this allow-lists exactly the globals mmengine
writes. One of them is ``builtins.getattr`` (a ``HistoryBuffer`` pickles its statistics methods
as ``getattr(HistoryBuffer, 'mean')``); it is mapped to a restricted getattr that resolves only
those methods, so the loader's guarantees stay intact for every other object.
"""
import pickle

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
