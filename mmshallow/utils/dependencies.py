"""The versions of torch, mmengine and mmcv that mmshallow supports, checked at import.

One clear error at ``import mmshallow`` for a release below the supported range (instead of a
failure deep inside a forward or a checkpoint load), and only a warning for one above the
newest tested release: a hard upper bound is what locks a plugin's users out of the next
release of their stack.
"""
import importlib
import importlib.util
import re
import warnings
from typing import Dict, Optional, Tuple

from ..version import DEPENDENCIES, MMCV_UPPER_BOUND, __version__

#: how to get each dependency, for the error message
INSTALL_HINTS = {
    'torch': 'pip install "torch>={low}"',
    'mmengine': 'pip install "mmengine>={low}"',
    'mmcv': 'mim install "mmcv>={low},<{upper}" (or pip install "mmcv-lite>={low},<{upper}", '
            'which is enough for mmshallow without mmdet)',
}


def release(version: str) -> Tuple[int, ...]:
    """``'2.1.2+cu121'`` -> ``(2, 1, 2)``; pre-release and local parts are ignored."""
    found = re.match(r'\s*v?(\d+(?:\.\d+)*)', version)
    if found is None:
        raise ValueError(f'cannot read a release number from version {version!r}')
    numbers = tuple(int(n) for n in found.group(1).split('.'))
    return numbers + (0, ) * (3 - len(numbers))


def installed_versions() -> Dict[str, Optional[str]]:
    """``{name: version or None if it does not import}`` for every entry of DEPENDENCIES."""
    found = {}
    for name in DEPENDENCIES:
        try:
            found[name] = importlib.import_module(name).__version__
        except ImportError:
            found[name] = None
    return found


class DependencyVersionError(ImportError):
    """torch, mmengine or mmcv is missing or older than mmshallow supports."""


def check_dependencies(installed: Optional[Dict[str, Optional[str]]] = None) -> None:
    """Raise :class:`DependencyVersionError` naming every dependency that is missing or below
    its supported range (installed and supported versions, and how to get one); warn for one
    newer than the newest tested release."""
    installed = installed_versions() if installed is None else installed
    problems, newer = [], []
    for name, (low, newest) in DEPENDENCIES.items():
        version = installed.get(name)
        upper = MMCV_UPPER_BOUND if name == 'mmcv' else None
        hint = INSTALL_HINTS[name].format(low=low, upper=upper)
        if version is None:
            problems.append(f'{name} is not installed; mmshallow needs {name} >= {low} '
                            f'({hint})')
        elif release(version) < release(low):
            problems.append(f'{name} {version} is installed; mmshallow needs {name} >= {low} '
                            f'({hint})')
        elif release(version) > release(newest):
            newer.append(f'{name} {version}')
            if upper is not None and release(version) >= release(upper):
                newer[-1] += f' (mmdet 3.3 itself refuses mmcv >= {upper})'
    if problems:
        raise DependencyVersionError(
            f'mmshallow {__version__} supports ' + ', '.join(
                f'{name} {low} and newer' for name, (low, _) in DEPENDENCIES.items()) +
            ':\n  ' + '\n  '.join(problems))
    if newer:
        tested = ', '.join(f'{name} {low}-{newest}' for name, (low, newest) in
                           DEPENDENCIES.items())
        warnings.warn(f'mmshallow {__version__} is tested with {tested}; installed: '
                      f'{", ".join(newer)}, newer than tested. It is expected to work; please '
                      'report what does not.', stacklevel=3)


#: why a feature that needs mmcv's compiled ops is unavailable
MMCV_OPS_MISSING = ("mmcv's compiled ops (mmcv._ext) are not installed (mmcv-lite, or mmcv "
                    "built without ops); mmdet's models and mmcv.ops need them: "
                    "bash tools/install.sh builds mmcv with its ops")


def mmcv_has_ops() -> bool:
    """Whether the installed mmcv has its compiled ops (full mmcv, not mmcv-lite)."""
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except ImportError:  # no mmcv at all
        return False
