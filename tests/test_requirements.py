"""setup.py's runtime requirements are the version ranges tools/install.sh installs and tests."""
import re
from importlib.metadata import version

from packaging.requirements import Requirement
from packaging.version import Version


def read_lines(path):
    lines = (line.split('#')[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pinned_versions(repo_root):
    """What tools/install.sh pins: torch (constraints.txt), mmengine (stack.txt), mmcv."""
    requirements = repo_root / 'requirements'
    pins = {}
    for name in ('constraints.txt', 'stack.txt'):
        for req in map(Requirement, read_lines(requirements / name)):
            pins.update((req.name, s.version) for s in req.specifier if s.operator == '==')
    mmcv = re.search(r'^MMCV_VERSION=(\S+)$', (repo_root / 'tools' / 'install.sh').read_text(),
                     re.M)
    return dict(torch=pins['torch'], mmengine=pins['mmengine'], mmcv=mmcv.group(1))


def test_runtime_requirements_span_only_the_tested_minor_versions(repo_root):
    runtime = {req.name: req.specifier
               for req in map(Requirement, read_lines(repo_root / 'requirements/runtime.txt'))}
    for name, tested in pinned_versions(repo_root).items():
        spec = runtime[name]
        major, minor = Version(tested).release[:2]
        assert tested in spec and version(name) in spec, (name, tested, spec)
        assert [s.version for s in spec if s.operator == '>='] == [tested], (name, spec)
        assert f'{major}.{minor + 1}.0' not in spec, (name, spec)
