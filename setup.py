import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version_file():
    """mmshallow/version.py: ``__version__`` and the supported ``DEPENDENCIES`` table."""
    scope = {}
    with open(osp.join(HERE, 'mmshallow', 'version.py')) as f:
        exec(f.read(), scope)
    return scope


VERSION_FILE = read_version_file()
LOWEST = {name: low for name, (low, _) in VERSION_FILE['DEPENDENCIES'].items()}
# torch and mmengine from the lowest supported release, no upper cap (a newer release warns at
# import). mmcv is not declared (see mmshallow/version.py): pip cannot tell a prebuilt mmcv from
# mmcv-lite and would replace either with a source build; `import mmshallow` checks it.
INSTALL_REQUIRES = [f'torch>={LOWEST["torch"]}', f'mmengine>={LOWEST["mmengine"]}', 'numpy']


# `mim search/train/test mmshallow` read <installed mmshallow>/.mim/: model-index.yml (whose
# Config paths are relative to .mim/), configs/ and tools/ (openmim 0.3.9,
# mim/commands/search.py and mim/utils/utils.py::get_installed_path).
MIM_ITEMS = ('model-index.yml', 'configs', 'tools')


def add_mim_extension(target_dir: str, mode: str) -> None:
    """Put MIM_ITEMS into ``target_dir`` (``mmshallow/.mim``), as mmdet's and mmpretrain's
    setup.py do: ``'symlink'`` for an editable install (the source tree, so edits show up),
    ``'copy'`` for a wheel (into the build directory; the source tree stays untouched)."""
    os.makedirs(target_dir, exist_ok=True)
    for name in MIM_ITEMS:
        src, dst = osp.join(HERE, name), osp.join(target_dir, name)
        if not osp.exists(src):
            raise FileNotFoundError(f'{src} is missing: mmshallow/.mim/ needs {MIM_ITEMS} '
                                    '(an sdist gets them through MANIFEST.in)')
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, target_dir), dst)
                continue
            except OSError:  # e.g. Windows without the symlink privilege: copy instead
                pass
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


class BuildPyWithMim(build_py):
    """build_py that also ships mmshallow/.mim/ (see add_mim_extension). PEP 660 editable
    installs (``pip install -e .``) run it with ``editable_mode`` set."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            add_mim_extension(osp.join(HERE, 'mmshallow', '.mim'), 'symlink')
        else:
            add_mim_extension(osp.join(self.build_lib, 'mmshallow', '.mim'), 'copy')


setup(
    name='mmshallow',
    version=VERSION_FILE['__version__'],
    description='Shallow but strong backbones (RepVGG, ParNet, VanillaNet, ParameterNet, '
    'MobileNeXt) for the OpenMMLab 2.x stack',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmshallow', 'mmshallow.*']),
    python_requires='>=3.11',  # CI tests 3.11 (both legs)
    install_requires=INSTALL_REQUIRES,
    extras_require={
        # for a fresh environment only: builds mmcv from source (mim install mmcv is faster)
        'mmcv': [f'mmcv>={LOWEST["mmcv"]},<{VERSION_FILE["MMCV_UPPER_BOUND"]}'],
        'mmdet': ['mmdet>=3.3.0'],
        'mmpretrain': ['mmpretrain>=1.2.0'],
        'mmseg': read_requirements('mmseg.txt'),
        'deploy': read_requirements('deploy.txt'),
        'benchmark': read_requirements('benchmark.txt'),
        'quickstart': read_requirements('quickstart.txt'),
        'tests': read_requirements('tests.txt'),
    },
    license='Apache License 2.0',
    cmdclass={'build_py': BuildPyWithMim},
    zip_safe=False,
)
