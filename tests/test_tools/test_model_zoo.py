"""tools/model_zoo.py: the CLI over mmshallow.analysis.model_zoo (measure, merge, render)."""
import json

import pytest


@pytest.fixture(scope='module')
def model_zoo(load_tool):
    return load_tool('model_zoo')


def test_measures_writes_json_and_png_then_merges_families(model_zoo, tmp_path):
    out = tmp_path / 'zoo.json'
    zoo = model_zoo.main(['--families', 'repvgg', 'vanillanet', '--archs', 'A0', '5',
                          '--runs', '1', '--quickstart', str(tmp_path / 'none.json'),
                          '--json', str(out), '--png', str(tmp_path / 'z.png')])
    assert [(r['family'], r['arch']) for r in zoo['rows']] == [('repvgg', 'A0'),
                                                               ('vanillanet', '5')]
    assert zoo['rows'][0]['latency_fused_ms'] > 0
    assert (tmp_path / 'z.png').read_bytes()[:4] == b'\x89PNG'
    assert json.loads(out.read_text()) == zoo
    # complexity-only rows of another family join the earlier ones, in catalogue order
    merged = model_zoo.main(['--from-json', str(out), '--families', 'qarepvgg', '--archs', 'A0',
                             '--runs', '0', '--json', str(out)])
    assert [(r['family'], r['arch']) for r in merged['rows']] == [
        ('repvgg', 'A0'), ('qarepvgg', 'A0'), ('vanillanet', '5')]
    qa = merged['rows'][1]
    assert 'latency_fused_ms' not in qa and qa['deploy_params'] == 8_309_384  # RepVGG's layout
    # rendering again from the JSON measures nothing and gives the same zoo
    assert model_zoo.main(['--from-json', str(out)]) == merged


def test_write_pages_fills_every_generated_block(model_zoo, tmp_path, repo_root):
    zoo = json.loads((repo_root / 'docs' / 'model_zoo.json').read_text())
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'docs' / 'model_zoo.md').write_text(
        '# Zoo\n\n<!-- model-zoo:start -->\nold\n<!-- model-zoo:end -->\n')
    for key in model_zoo.FAMILIES:
        (tmp_path / 'configs' / key).mkdir(parents=True)
        (tmp_path / 'configs' / key / 'README.md').write_text(
            f'# {key}\n\n<!-- catalogue:start -->\n<!-- catalogue:end -->\n\nNotes.\n')
    model_zoo.write_pages(zoo, str(tmp_path))
    text = (tmp_path / 'docs' / 'model_zoo.md').read_text()
    assert 'old' not in text and '#### VanillaNet' in text
    repvgg = (tmp_path / 'configs' / 'repvgg' / 'README.md').read_text()
    assert repvgg.endswith('<!-- catalogue:end -->\n\nNotes.\n')
    assert '| A0 | 224² | 9.11 | 8.31 | 8.30 | 1.36 | 1.4 | 23 |' in repvgg
    assert '[train](../../configs/repvgg/repvgg-a0_8xb32_in1k.py)' in repvgg


def test_bad_arguments(model_zoo, tmp_path):
    with pytest.raises(SystemExit):
        model_zoo.parse_args(['--runs', '-1'])
    with pytest.raises(SystemExit):
        model_zoo.parse_args(['--families', 'resnet'])
    page = tmp_path / 'README.md'
    page.write_text('no markers\n')
    with pytest.raises(ValueError, match='needs exactly one <!-- catalogue:start -->'):
        model_zoo.replace_between(str(page), 'x', model_zoo.zoo_lib.FAMILY_START,
                                  model_zoo.zoo_lib.FAMILY_END)
