import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    scope = {}
    with open(osp.join(HERE, 'mmshallow', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmshallow',
    version=read_version(),
    description='Shallow but strong backbones (RepVGG, ParNet, VanillaNet, ParameterNet, '
    'MobileNeXt) for the OpenMMLab 2.x stack',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmshallow', 'mmshallow.*']),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'mmdet': ['mmdet>=3.3.0,<3.4'],
        'mmpretrain': ['mmpretrain>=1.2.0,<1.3'],
        'deploy': read_requirements('deploy.txt'),
        'benchmark': read_requirements('benchmark.txt'),
        'quickstart': read_requirements('quickstart.txt'),
        'tests': read_requirements('tests.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False,
)
