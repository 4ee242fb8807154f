"""model-index.yml and configs/*/metafile.yml: they load in the OpenMMLab format, cover every
model config, state the parameter counts of the models the configs build, and reach
`mim search mmshallow` from an installed package (setup.py ships them as mmshallow/.mim/)."""
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]


def _metafiles():
    return yaml.safe_load((REPO / 'model-index.yml').read_text())['Import']


def _entries():
    """(metafile, model dict) for every Models entry of every imported metafile."""
    return [(path, model) for path in _metafiles()
            for model in yaml.safe_load((REPO / path).read_text()).get('Models', [])]


ENTRIES = {model['Name']: model for _, model in _entries()}


def _model_configs():
    """Every model config: configs/<family>/*.py, minus _base_ files and mmdeploy's configs."""
    return sorted(p.relative_to(REPO).as_posix() for p in REPO.glob('configs/*/*.py')
                  if not p.name.startswith('_') and p.parent.name != 'deploy')


def test_model_index_loads_with_modelindex_without_errors():
    load = pytest.importorskip('modelindex.load_model_index').load
    index = load(str(REPO / 'model-index.yml'))
    # modelindex records a broken import or an unknown collection instead of raising
    assert index.check(silent=True) == []
    assert sorted(m.name for m in index.models) == sorted(ENTRIES)
    assert {c.name for c in index.collections} == {
        'RepVGG', 'QARepVGG', 'ParNet', 'VanillaNet', 'ParameterNet', 'MobileNeXt'}


def test_every_metafile_under_configs_is_imported():
    on_disk = sorted(p.relative_to(REPO).as_posix() for p in REPO.glob('configs/*/metafile.yml'))
    assert sorted(_metafiles()) == on_disk


def test_model_names_are_unique_and_are_the_config_ids():
    # mim search keys its rows by Name and matches `--config` in lower case
    names = [model['Name'] for _, model in _entries()]
    assert len(names) == len(set(names))
    for metafile, model in _entries():
        assert model['Name'] == Path(model['Config']).stem == model['Name'].lower(), metafile
        assert Path(model['Config']).parent == Path(metafile).parent, model['Name']


def test_every_config_path_exists():
    missing = [m['Config'] for m in ENTRIES.values() if not (REPO / m['Config']).is_file()]
    assert missing == []


def test_every_model_config_has_an_entry():
    listed = sorted(m['Config'] for m in ENTRIES.values())
    without_entry = sorted(set(_model_configs()) - set(listed))
    assert without_entry == [], 'add these to their configs/<family>/metafile.yml'
    assert listed == _model_configs()


def test_every_result_says_where_it_comes_from():
    for name, model in ENTRIES.items():
        if model.get('Results'):
            assert model['Metadata'].get('Results Source'), name
        assert 'Weights' not in model, f'{name}: no weights are hosted'


def test_digits_quickstart_results_are_the_measured_ones():
    path = REPO / 'docs' / 'quickstart_digits.json'  # tools/quickstart.py classification --all
    for run in json.loads(path.read_text()):
        name = Path(run['config']).stem
        results = ENTRIES[name].get('Results')
        assert results, f'{name}: add the measured (fused) top-1 of {path.name} as its Results'
        assert results[0]['Metrics']['Top 1 Accuracy'] == pytest.approx(run['top1_fused'],
                                                                        abs=0.005)


def _registry(scope):
    module = pytest.importorskip(f'{scope}.registry')
    return module.MODELS


def _build_on_meta(config):
    """The model a config builds, with its parameters on the meta device (no memory, no init:
    VanillaNet-13-1.5x has 237M), fused or not."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(str(REPO / config))
    MODELS = _registry(cfg.default_scope)
    with DefaultScope.overwrite_default_scope(cfg.default_scope), torch.device('meta'):
        model = MODELS.build(cfg.model)
    return cfg, model


def _fuse_on_meta(model):
    from mmshallow.engine.hooks.reparam_hook import reparameterize_for_deploy

    # fusing checks VanillaNet's deep-training λ, a value a meta tensor does not have
    for module in model.modules():
        if 'act_lambda' in module._buffers:
            module._buffers['act_lambda'] = torch.ones(())
    # what ReparamHook writes: segmentors' heads get their BNs folded too
    return reparameterize_for_deploy(model.eval())


@pytest.mark.parametrize('name', [
    pytest.param(name, marks=pytest.mark.needs_mmcv_ops)
    if name.endswith(('_coco', '_shapes', '_ade20k-512x512', '_cityscapes-512x1024',
                      '_shapes-seg'))
    else name for name in sorted(ENTRIES)])
def test_metadata_matches_the_model_the_config_builds(name):
    from mmshallow.testing import count_params
    entry = ENTRIES[name]
    meta = entry['Metadata']
    cfg, model = _build_on_meta(entry['Config'])
    assert meta['Parameters'] == count_params(model)
    if 'Epochs' in meta:
        assert meta['Epochs'] == cfg.train_cfg.max_epochs
    if 'Iterations' in meta:  # the iteration-based (segmentation) schedules
        assert meta['Iterations'] == cfg.train_cfg.max_iters
    if 'Batch Size' in meta:  # the global batch: NxbM in the name, M per GPU in the config
        gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)', name).groups())
        assert per_gpu == cfg.train_dataloader.batch_size
        assert meta['Batch Size'] == gpus * per_gpu
    assert meta['Training Data'] == {
        'in1k': 'ImageNet-1k', 'coco': 'COCO', 'cifar10': 'CIFAR-10', 'cifar100': 'CIFAR-100',
        'digits': 'Digits (scikit-learn)', 'shapes': 'Synthetic Shapes (COCO layout)',
        'ade20k-512x512': 'ADE20K', 'cityscapes-512x1024': 'Cityscapes',
        'shapes-seg': 'Synthetic Shapes (segmentation)',
    }[name.rsplit('_', 1)[1]]
    assert meta.get('Deploy Parameters', meta['Parameters']) == \
        count_params(_fuse_on_meta(model))


@pytest.mark.parametrize('name', ['repvgg-a0_deploy_in1k', 'vanillanet-digits_1xb32-12e_digits'])
def test_flops_are_mmengines_count_of_the_fused_model(name):
    from mmengine.analysis import get_model_complexity_info
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import mmshallow
    entry = ENTRIES[name]
    cfg = Config.fromfile(str(REPO / entry['Config']))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = _registry(cfg.default_scope).build(cfg.model).eval()
    mmshallow.reparameterize(model)
    size = int(entry['Metadata']['Input Size'].split('x')[0])
    with torch.no_grad():
        info = get_model_complexity_info(model, input_shape=(3, size, size), show_table=False,
                                         show_arch=False)
    assert entry['Metadata']['FLOPs'] == int(info['flops'])


def _run_mim(args, cwd, env=None):
    if importlib.util.find_spec('mim') is None:
        pytest.skip('openmim is not installed (pip install openmim): `mim search` untestable')
    out = subprocess.run([sys.executable, '-m', 'mim', 'search', 'mmshallow', *args], cwd=cwd,
                         env={**os.environ, **(env or {})}, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_mim_search_lists_every_model_from_a_package_built_from_the_sdist(tmp_path):
    # A copy of the source tree -> sdist (MANIFEST.in) -> wheel (setup.py copies
    # model-index.yml, configs/ and tools/ into mmshallow/.mim/) -> installed into a folder.
    src, site = tmp_path / 'src', tmp_path / 'site'
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'data', 'work_dirs', 'build', 'dist', '*.egg-info', '__pycache__',
        '.mim', '.pytest_cache', 'tests', 'docs'))
    sdist = subprocess.run([sys.executable, 'setup.py', '-q', 'sdist', '-d', str(tmp_path)],
                           cwd=src, capture_output=True, text=True)
    assert sdist.returncode == 0, sdist.stderr
    install = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation',
         '--no-index', '--target', str(site), *map(str, tmp_path.glob('mmshallow-*.tar.gz'))],
        capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    mim_dir = site / 'mmshallow' / '.mim'
    assert [m['Config'] for m in ENTRIES.values() if not (mim_dir / m['Config']).is_file()] == []
    assert (mim_dir / 'tools' / 'train.py').is_file() and (mim_dir / 'tools' / 'test.py').is_file()

    # mim finds the package through pkg_resources: the folder comes first on PYTHONPATH
    _run_mim(['--json', str(tmp_path / 'zoo.json')], cwd=tmp_path,
             env=dict(PYTHONPATH=str(site)))
    zoo = json.loads((tmp_path / 'zoo.json').read_text())
    assert sorted(zoo['config']) == sorted(ENTRIES)
    assert zoo['parameters']['repvgg-a0_8xb32_in1k'] == 9_108_968
    assert zoo['imagenet-1k/top_1_accuracy']['repvgg-a0_8xb32_in1k'] == 72.41


def test_mim_search_from_the_repo_root_with_an_editable_install():
    # A PEP 660 editable install leaves no mmshallow/ in site-packages, where mim 0.3.9 looks;
    # from the repo root pkg_resources finds mmshallow.egg-info there first, and
    # mmshallow/.mim/ holds the links `pip install -e .` made (setup.py).
    if not (REPO / 'mmshallow' / '.mim' / 'model-index.yml').exists() or \
            not glob.glob(str(REPO / '*.egg-info')):
        pytest.skip('no editable install with mmshallow/.mim/ here (pip install -e . makes it)')
    out = _run_mim(['--valid-config'], cwd=REPO)
    listed = set(re.findall(r"'([^']+)'", out))
    assert listed == set(ENTRIES)
