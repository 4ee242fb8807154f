"""The supported versions (mmshallow/version.py) are what setup.py declares, what CI's two legs
install, and what ``import mmshallow`` checks."""
import json
import re
import subprocess
import sys
from importlib.metadata import requires, version

import pytest
from packaging.requirements import Requirement

from mmshallow.utils.dependencies import DependencyVersionError, check_dependencies, release
from mmshallow.version import DEPENDENCIES


def read_lines(path):
    lines = (line.split('#')[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pins(path):
    found = {}
    for req in map(Requirement, read_lines(path)):
        found.update((req.name, s.version) for s in req.specifier if s.operator == '==')
    return found


def test_ci_legs_install_the_newest_tested_and_the_lowest_supported_releases(repo_root):
    main = {**pins(repo_root / 'requirements/constraints.txt'),
            **pins(repo_root / 'requirements/stack.txt')}
    main['mmcv'] = re.search(r'^MMCV_VERSION=(\S+)$',
                             (repo_root / 'tools/install.sh').read_text(), re.M).group(1)
    lowest = pins(repo_root / 'requirements/lowest.txt')
    lowest['mmcv'] = lowest.pop('mmcv-lite')
    for name, (low, newest) in DEPENDENCIES.items():
        assert main[name] == newest, (name, main[name], newest)
        assert release(lowest[name])[:2] == release(low)[:2] and \
            release(lowest[name]) >= release(low), (name, lowest[name], low)


def test_installed_metadata_declares_the_lowest_releases_without_an_upper_cap():
    declared = {r.name: r for r in map(Requirement, requires('mmshallow'))
                if r.marker is None}
    for name in ('torch', 'mmengine'):
        assert str(declared[name].specifier) == f'>={DEPENDENCIES[name][0]}', declared[name]
        assert version(name) in declared[name].specifier
    assert 'mmcv' not in declared  # checked at import (mmcv or mmcv-lite), see version.py


def test_pip_installs_mmshallow_alone_into_this_environment(repo_root, tmp_path):
    """pip's resolver, with the declared requirements, into the running environment (torch
    2.14.1 + mmcv 2.1.0 here, torch 2.1.2 + mmcv-lite 2.1.0 in the low-end leg): nothing but
    mmshallow would be installed or changed."""
    report = tmp_path / 'report.json'
    result = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--dry-run', '--no-build-isolation', '-q',
         '--report', str(report), str(repo_root)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    installs = [item['metadata']['name'] for item in json.loads(report.read_text())['install']]
    assert installs == ['mmshallow']


def optional_extras(repo_root):
    """``{extra: requirements file}`` for the extras that setup.py reads from requirements/."""
    return dict(re.findall(r"'(\w+)': read_requirements\('(\w+\.txt)'\)",
                           (repo_root / 'setup.py').read_text()))


def test_every_optional_extra_is_a_requirements_file_an_install_flag_and_in_ci(repo_root):
    """setup.py's extra, tools/install.sh's flag (help text, unknown-option message, the pip
    call) and CI's main-leg install name the same requirements file, so CI runs its tests."""
    extras = optional_extras(repo_root)
    assert {'deploy', 'benchmark', 'quickstart', 'mmseg', 'tests'} <= set(extras), extras
    install = (repo_root / 'tools/install.sh').read_text()
    allowed = re.search(r"unknown option .*\(allowed: ([^)]*)\)", install).group(1)
    ci_install = re.search(r'^bash tools/install\.sh (--\S+(?: --\S+)*)$',
                           (repo_root / '.ci/run').read_text(), re.M).group(1).split()
    for extra, path in extras.items():
        assert (repo_root / 'requirements' / path).is_file(), path
        if extra == 'tests':
            continue  # installed by every install.sh run (step 3)
        assert f'--{extra}) WITH_' in install and f'install.sh --{extra} ' in install, extra
        assert f'-r "$REPO/requirements/{path}"' in install, extra
        assert f'--{extra}' in allowed.split(', ') and f'--{extra}' in ci_install, extra


def test_the_mmseg_extra_pins_what_is_installed_and_what_import_mmseg_models_needs(repo_root):
    """mmseg's own requirements leave out ftfy and regex, which ``import mmseg.models`` needs;
    the extra pins all three at the releases tested here (the main leg; the low-end leg has
    no mmseg: mmseg.models imports mmcv.ops, which mmcv-lite lacks)."""
    extra = pins(repo_root / 'requirements' / optional_extras(repo_root)['mmseg'])
    assert set(extra) == {'mmsegmentation', 'ftfy', 'regex'}, extra
    assert 'mmsegmentation' not in pins(repo_root / 'requirements/lowest.txt')
    pytest.importorskip('mmseg', reason='mmsegmentation is not installed '
                        '(tools/install.sh --mmseg)')
    assert {name: version(name) for name in extra} == extra


@pytest.mark.parametrize('name', sorted(DEPENDENCIES))
def test_a_release_below_the_range_is_one_clear_error(name):
    installed = {n: newest for n, (_, newest) in DEPENDENCIES.items()}
    installed[name] = '2.0.1' if name != 'mmengine' else '0.9.1'
    with pytest.raises(DependencyVersionError) as info:
        check_dependencies(installed)
    low = DEPENDENCIES[name][0]
    assert f'{name} {installed[name]} is installed; mmshallow needs {name} >= {low}' \
        in str(info.value)
    installed[name] = None
    with pytest.raises(DependencyVersionError, match=f'{name} is not installed'):
        check_dependencies(installed)


def test_a_release_above_the_tested_ones_only_warns():
    installed = {n: newest for n, (_, newest) in DEPENDENCIES.items()}
    check_dependencies(installed)  # no warning at the tested releases
    installed.update(torch='2.15.0', mmcv='2.2.0')
    with pytest.warns(UserWarning, match=r'installed: torch 2\.15\.0, mmcv 2\.2\.0 \(mmdet 3\.3 '
                      r'itself refuses mmcv >= 2\.2\.0\), newer than tested'):
        check_dependencies(installed)


def test_import_mmshallow_refuses_an_old_torch_before_anything_else():
    code = ("import torch; torch.__version__ = '2.0.1'\n"
            "try:\n    import mmshallow\n"
            "except ImportError as err:\n    print(type(err).__name__, err)\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=300).stdout
    assert out.startswith('DependencyVersionError mmshallow'), out
    assert 'torch 2.0.1 is installed; mmshallow needs torch >= 2.1.0' in out
