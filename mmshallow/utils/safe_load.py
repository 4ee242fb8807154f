"""Let ``torch.load(weights_only=True)`` (torch >= 2.6's default) read mmengine's checkpoints,
and load as safely on older torch.

mmengine 0.10.x calls ``torch.load`` without ``weights_only``, and its checkpoints carry the
message hub's ``HistoryBuffer`` objects (numpy arrays inside), so resuming fails on today's
torch. Instead of turning the safe loader off, this allow-lists exactly the globals mmengine
writes. One of them is ``builtins.getattr`` (a ``HistoryBuffer`` pickles its statistics methods
as ``getattr(HistoryBuffer, 'mean')``); it is mapped to a restricted getattr that resolves only
those methods, so the loader's guarantees stay intact for every other object.

torch < 2.6 loads everything by default (``weights_only=False``), and its safe loader cannot be
extended (``add_safe_globals`` is 2.4+, and takes ``(object, name)`` pairs from 2.6 on). There,
:func:`refuse_unsafe_checkpoint` gives ``torch.load`` the same allow-list for its duration, through
:func:`restricted_pickle_module`: an unpickler that resolves only allowed globals.
"""
import _compat_pickle
import codecs
import collections
import os
import pickle
import re
import types
from contextlib import contextmanager
from typing import Iterable
from unittest import mock

import numpy as np
import torch

from .dependencies import release

#: torch >= 2.6: ``torch.load`` defaults to ``weights_only=True`` and takes ``(obj, name)`` pairs
TORCH_LOADS_WEIGHTS_ONLY = release(torch.__version__) >= (2, 6)

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
    numpy2 = release(np.__version__) >= (2, 0)  # numpy 1.26 has a ``_core`` shim, not this
    core = np._core if numpy2 else np.core
    reconstruct = core.multiarray._reconstruct
    scalar = core.multiarray.scalar
    module = 'numpy._core.multiarray' if numpy2 else 'numpy.core.multiarray'
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
    """Register :func:`mmengine_safe_globals` with ``torch.serialization`` (idempotent). Older
    torch loads everything by default; :func:`refuse_unsafe_checkpoint` covers it."""
    if TORCH_LOADS_WEIGHTS_ONLY:
        torch.serialization.add_safe_globals(mmengine_safe_globals())


def _global_name(entry) -> tuple:
    if isinstance(entry, tuple):
        return entry[1], entry[0]
    return f'{entry.__module__}.{entry.__qualname__}', entry


def _torch_safe_globals() -> dict:
    """What torch's own weights-only loader accepts: tensors, storages, dtypes, containers."""
    from torch import _weights_only_unpickler
    allowed = dict(_weights_only_unpickler._get_allowed_globals())
    allowed.update((f'torch.{name}', obj) for name, obj in vars(torch).items()
                   if isinstance(obj, torch.dtype))
    # protocol-2 pickles of bytes (numpy arrays' data) call _codecs.encode(str, 'latin1'),
    # which torch >= 2.6 allows by default
    allowed['_codecs.encode'] = codecs.encode
    # plain containers torch >= 2.6 also allows (schedulers' state holds a Counter)
    allowed.update({'collections.Counter': collections.Counter, 'builtins.set': set,
                    'builtins.frozenset': frozenset, 'builtins.bytearray': bytearray,
                    'builtins.complex': complex, 'builtins.slice': slice})
    return allowed


def restricted_pickle_module(extra_globals: Iterable = ()) -> types.ModuleType:
    """A ``pickle_module`` for ``torch.load`` whose unpickler resolves only the globals of
    torch's weights-only loader, :func:`mmengine_safe_globals` and ``extra_globals`` (objects or
    ``(object, 'module.name')`` pairs); any other global is an ``UnpicklingError`` worded like
    torch's (``Weights only load failed ... GLOBAL module.name``). Only a global can make
    unpickling call code, so this is the guarantee of ``weights_only=True`` for torch < 2.6."""
    allowed = _torch_safe_globals()
    allowed.update(_global_name(entry) for entry in (*mmengine_safe_globals(), *extra_globals))

    class RestrictedUnpickler(pickle.Unpickler):

        def find_class(self, module, name):
            # Python 2 names (protocol 2, torch.save's): what pickle's fix_imports maps
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            found = allowed.get(f'{module}.{name}')
            if found is None:
                raise pickle.UnpicklingError(
                    f'Weights only load failed: Unsupported global: GLOBAL {module}.{name} '
                    'is not an allowed global (mmshallow\'s restricted loader for torch < 2.6)')
            return found

    module = types.ModuleType('mmshallow_restricted_pickle')
    module.Unpickler = RestrictedUnpickler
    module.load = lambda file, **kwargs: RestrictedUnpickler(file, **kwargs).load()
    module.__dict__.update(dumps=pickle.dumps, dump=pickle.dump, loads=pickle.loads)
    return module


@contextmanager
def weights_only_torch_load(extra_globals: Iterable = ()):
    """For its duration, ``torch.load`` without an explicit ``weights_only`` / ``pickle_module``
    (mmengine's calls) loads safely on every torch: torch >= 2.6 already does (``extra_globals``
    are allowed through ``torch.serialization.safe_globals``); older torch gets
    :func:`restricted_pickle_module`."""
    extra_globals = list(extra_globals)
    if TORCH_LOADS_WEIGHTS_ONLY:
        if extra_globals:
            with torch.serialization.safe_globals(extra_globals):
                yield
        else:
            yield
        return
    original = torch.load
    restricted = restricted_pickle_module(extra_globals)

    def load(f, map_location=None, pickle_module=None, **kwargs):
        if pickle_module is None and kwargs.get('weights_only') is not False:
            pickle_module, kwargs['weights_only'] = restricted, False
        return original(f, map_location, pickle_module, **kwargs)

    with mock.patch.object(torch, 'load', load):
        yield


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
def refuse_unsafe_checkpoint(path: str, extra_globals: Iterable = ()):
    """Load ``path`` safely inside this context (:func:`weights_only_torch_load`, also on
    torch < 2.6), and make errors clear: the safe loader's refusal becomes an
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
        with weights_only_torch_load(extra_globals):
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
