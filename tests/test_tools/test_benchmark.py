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


def _row(model, ort, int8=None):
    lat = dict(train=3.0, fused=2.0, fastest=1.5, onnxruntime=ort)
    if int8:
        lat['onnxruntime_int8'] = int8
    return dict(model=model, train_params=2e6, deploy_params=1e6, flops=1e9, depth=10,
                paper_top1=None, latency_ms={'1': lat}, efficiency={'1': 0.5})


def test_int8_speedups_against_own_fp32_and_timm(load_tool):
    tool = load_tool('benchmark')
    rows = [_row('repvgg:A0', 8.0, 2.0), _row('mobilenext:1.0', 3.0),
            _row('timm repvgg_a0 (reparameterized)', 9.0)]
    assert tool.int8_speedups(rows, [1]) == [
        '- repvgg:A0: INT8 vs its fp32 ONNX Runtime model b1 4.00x (4.50x timm repvgg_a0)']
    assert '| repvgg:A0 | 2.00 | 1.00 | 1.00 | 10 |  | 3.0 / 2.0 / 1.5 / 8.0 / 2.0 | 50% |' \
        in tool.markdown(rows, [1])


def test_readme_benchmark_block_is_docs_benchmark_json(load_tool, repo_root):
    from mmshallow.utils.generated import between
    tool = load_tool('benchmark')
    result = json.loads((repo_root / 'docs' / 'benchmark.json').read_text())
    assert between(str(repo_root / 'README.md'), tool.START, tool.END) == \
        tool.readme_block(result), ('README is stale: python tools/benchmark.py --from-json '
                                    'docs/benchmark.json --write README.md')
    for model in ('repvgg:A0', 'parnet:s', 'vanillanet:5'):  # issue #14's INT8 column
        row = next(r for r in result['rows'] if r['model'] == model)
        assert all('onnxruntime_int8' in lat for lat in row['latency_ms'].values()), model
