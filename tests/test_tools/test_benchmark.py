"""tools/benchmark.py: the CLI over mmshallow.analysis.benchmark (measure, merge, render)."""
import json

import pytest


def _int8_available() -> bool:
    """What the INT8 column needs: the deploy extra (mmdeploy, ml_dtypes)."""
    try:
        import ml_dtypes  # noqa: F401

        import mmshallow.deploy.quantize  # noqa: F401
    except ImportError:
        return False
    return True


def test_benchmark_measures_writes_json_and_plot(load_tool, tmp_path, capsys):
    tool = load_tool('benchmark')
    rows = tool.main(['--models', 'repvgg:A0', 'parnet:s', 'vanillanet:5', '--batch', '1', '2',
                      '--runs', '1', '--warmup', '0', '--shape', '64', '64',
                      '--backend', 'torchscript', '--out-dir', str(tmp_path)])
    by_name = {row['model']: row for row in rows}
    # depth: RepVGG-A0 22 convs + FC; ParNet's "depth 12"; VanillaNet-5: stem, 3 stages and
    # the FC, each main conv followed by its series activation (a depthwise conv)
    assert [by_name[n]['depth'] for n in ('repvgg:A0', 'parnet:s', 'vanillanet:5')] == \
        [23, 12, 9]
    a0 = by_name['repvgg:A0']
    assert a0['train_params'] > a0['deploy_params'] == 8_309_384
    assert a0['paper_top1'] == 72.41 and a0['flops'] > 0
    for row in rows:
        for batch in ('1', '2'):
            latency = row['latency_ms'][batch]
            assert set(latency) >= {'train', 'fused', 'fastest', 'onnxruntime'}
            assert ('onnxruntime_int8' in latency) == _int8_available()
            assert all(v > 0 for v in latency.values()) and row['efficiency'][batch] > 0
    result = json.loads((tmp_path / 'benchmark.json').read_text())
    assert result['machine']['conv3x3_gflops'] > 0 and len(result['rows']) == 3
    assert (tmp_path / 'benchmark.png').stat().st_size > 10_000
    assert '| repvgg:A0 | 9.11 | 8.31 |' in capsys.readouterr().out


def test_benchmark_rejects_unknown_models_and_settings(load_tool, tmp_path):
    tool = load_tool('benchmark')
    with pytest.raises(ValueError, match="arch 'A9' not in RepVGG archs: A0"):
        tool.main(['--models', 'repvgg:A9', '--out-dir', str(tmp_path)])
    with pytest.raises(ValueError, match="family:arch with family one of repvgg"):
        tool.main(['--models', 'resnet', '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit):
        tool.main(['--batch', '0', '--out-dir', str(tmp_path)])


def test_recount_and_merge_keep_the_other_rows(load_tool, tmp_path, repo_root):
    tool = load_tool('benchmark')
    earlier = json.loads((repo_root / 'docs' / 'benchmark.json').read_text())
    path = tmp_path / 'benchmark.json'
    for row in earlier['rows']:
        row['train_params'] = -1  # stale
    path.write_text(json.dumps(earlier))
    rows = tool.main(['--from-json', str(path), '--recount'])
    again = json.loads(path.read_text())['rows']
    assert rows == again
    ours = [r for r in again if ':' in r['model']]
    assert ours and all(r['train_params'] > 0 for r in ours)
    assert all(r['train_params'] == -1 for r in again if ':' not in r['model'])  # baselines
