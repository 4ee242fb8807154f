"""The generated zoo pages are docs/model_zoo.json rendered, and the zoo covers the catalogue."""
import json

import pytest

from mmshallow.analysis import model_zoo
from mmshallow.models.catalogue import FAMILIES
from mmshallow.utils.generated import between


@pytest.fixture(scope='module')
def zoo(repo_root):
    return json.loads((repo_root / 'docs' / 'model_zoo.json').read_text())


def test_docs_model_zoo_is_generated_from_docs_json(zoo, repo_root):
    assert between(str(repo_root / 'docs' / 'model_zoo.md'), model_zoo.START,
                   model_zoo.END) == model_zoo.markdown(zoo), \
        'docs/model_zoo.md is stale: python tools/model_zoo.py --from-json ' \
        'docs/model_zoo.json --write'


@pytest.mark.parametrize('family', FAMILIES.values(), ids=list(FAMILIES))
def test_family_readme_is_generated_from_docs_json(zoo, repo_root, family):
    page = repo_root / 'configs' / family.key / 'README.md'
    assert between(str(page), model_zoo.FAMILY_START, model_zoo.FAMILY_END) == \
        model_zoo.family_readme_block(zoo, family), \
        f'{page.name} of {family.key} is stale: python tools/model_zoo.py --from-json ' \
        'docs/model_zoo.json --write'


def test_zoo_measures_every_arch_of_the_catalogue_and_the_quickstart_runs(zoo, repo_root):
    measured = [(r['family'], r['arch']) for r in zoo['rows']]
    assert measured == [(f.key, a) for f in FAMILIES.values() for a in f.archs]
    assert sorted(r['family'] for r in zoo['quickstart']) == \
        ['MobileNeXt', 'ParNet', 'ParameterNet', 'QARepVGG', 'RepVGG', 'VanillaNet']
    assert all(r['top1'] >= 95 and abs(r['top1_fused'] - r['top1']) <= 0.3
               for r in zoo['quickstart'])
    assert (repo_root / 'docs' / 'model_zoo.png').exists()


def test_measure_gives_complexity_and_latency_of_one_model():
    model = FAMILIES['repvgg'].build_classifier('A0', num_classes=10)
    row = model_zoo.measure(model, 32, runs=1, warmup=0)
    assert row['size'] == 32 and row['depth'] == 23
    assert row['train_params'] > row['deploy_params'] > 0
    assert row['latency_train_ms'] > 0 and row['latency_fused_ms'] > 0
    assert 'latency_fused_ms' not in model_zoo.measure(model, 32, runs=0)
