import json

import pytest


@pytest.fixture(scope='module')
def model_zoo(load_tool):
    return load_tool('model_zoo')


def test_measures_writes_json_png_and_readme_section(model_zoo, tmp_path):
    readme = tmp_path / 'README.md'
    readme.write_text('# x\n\n## Model zoo\n\n<!-- model-zoo:start -->\nold\n'
                      '<!-- model-zoo:end -->\n\n## After\n')
    zoo = model_zoo.main(['--families', 'repvgg', 'vanillanet', '--archs', 'A0', '5',
                          '--runs', '1', '--quickstart', str(tmp_path / 'none.json'),
                          '--json', str(tmp_path / 'zoo.json'), '--png', str(tmp_path / 'z.png'),
                          '--write', str(readme)])
    rows = {r['arch']: r for r in zoo['rows']}
    assert sorted(rows) == ['5', 'A0']
    # exact counts of the official code (asserted elsewhere too): the zoo measures the same models
    assert rows['A0']['deploy_params'] == 8_309_384 and rows['A0']['train_params'] > 9e6
    assert rows['5']['deploy_params'] == 15_523_304
    assert rows['5']['train_params'] == 22_328_800
    assert rows['A0']['depth'] == 23          # stem + 2 + 4 + 14 + 1 convs, + FC
    assert abs(rows['5']['flops'] / 5.2e9 - 1) < 0.02
    assert rows['A0']['latency_fused_ms'] > 0 and rows['A0']['paper_top1'] == '72.41'
    assert (tmp_path / 'z.png').read_bytes()[:4] == b'\x89PNG'
    text = readme.read_text()
    assert 'old' not in text and text.endswith('<!-- model-zoo:end -->\n\n## After\n')
    assert '| A0 | 9.11 | 8.31 | 1.36 | 224² | 23 |' in text
    assert 'tools/model_converters/vanillanet_to_mmshallow.py' in text
    # rendering again from the JSON gives the same section
    assert model_zoo.main(['--from-json', str(tmp_path / 'zoo.json')]) == \
        json.loads((tmp_path / 'zoo.json').read_text())


def test_readme_model_zoo_is_generated_from_docs_json(model_zoo, repo_root):
    zoo = json.loads((repo_root / 'docs' / 'model_zoo.json').read_text())
    assert model_zoo.markdown(zoo) in (repo_root / 'README.md').read_text(), \
        ('README is stale: python tools/model_zoo.py --from-json docs/model_zoo.json '
         '--write README.md')
    # every family and arch, and the six quickstart runs (QARepVGG beside RepVGG)
    measured = {(r['family'], r['arch']) for r in zoo['rows']}
    assert measured == {(f, a) for f in model_zoo.FAMILIES for a in model_zoo.archs_of(f)}
    assert sorted(r['family'] for r in zoo['quickstart']) == \
        ['MobileNeXt', 'ParNet', 'ParameterNet', 'QARepVGG', 'RepVGG', 'VanillaNet']
    assert all(r['top1'] >= 95 and abs(r['top1_fused'] - r['top1']) <= 0.3
               for r in zoo['quickstart'])
    assert (repo_root / 'docs' / 'model_zoo.png').exists()


def test_bad_arguments(model_zoo, tmp_path):
    with pytest.raises(SystemExit):
        model_zoo.parse_args(['--runs', '0'])
    readme = tmp_path / 'README.md'
    readme.write_text('no markers\n')
    with pytest.raises(ValueError, match='needs exactly one <!-- model-zoo:start -->'):
        model_zoo.write_readme(str(readme), 'x')
