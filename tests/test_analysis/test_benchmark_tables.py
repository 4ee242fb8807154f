"""The benchmark's tables: INT8 speed-ups, the Markdown table, docs/benchmark.md's block."""
import json

import pytest

from mmshallow.analysis import benchmark as bench


def _row(model, ort, int8=None):
    lat = dict(train=3.0, fused=2.0, fastest=1.5, onnxruntime=ort)
    if int8:
        lat['onnxruntime_int8'] = int8
    return dict(model=model, train_params=2e6, deploy_params=1e6, flops=1e9, depth=10,
                paper_top1=None, latency_ms={'1': lat}, efficiency={'1': 0.5})


def test_int8_speedups_against_own_fp32_and_timm():
    tool = bench
    rows = [_row('repvgg:A0', 8.0, 2.0), _row('mobilenext:1.0', 3.0),
            _row('timm repvgg_a0 (reparameterized)', 9.0)]
    assert tool.int8_speedups(rows, [1]) == [
        '- repvgg:A0: INT8 vs its fp32 ONNX Runtime model b1 4.00x (4.50x timm repvgg_a0)']
    assert '| repvgg:A0 | 2.00 | 1.00 | 1.00 | 10 |  | 3.0 / 2.0 / 1.5 / 8.0 / 2.0 | 50% |' \
        in tool.markdown(rows, [1])


def test_docs_benchmark_block_is_docs_benchmark_json(repo_root):
    from mmshallow.utils.generated import between
    tool = bench
    result = json.loads((repo_root / 'docs' / 'benchmark.json').read_text())
    assert between(str(repo_root / 'docs' / 'benchmark.md'), tool.START, tool.END) == \
        tool.readme_block(result), ('docs/benchmark.md is stale: python tools/benchmark.py '
                                    '--from-json docs/benchmark.json --write docs/benchmark.md')
    for model in ('repvgg:A0', 'parnet:s', 'vanillanet:5'):  # issue #14's INT8 column
        row = next(r for r in result['rows'] if r['model'] == model)
        assert all('onnxruntime_int8' in lat for lat in row['latency_ms'].values()), model


def test_merge_refuses_runs_of_different_machines():
    earlier = dict(machine=dict(conv3x3_gflops=200.0, cpu_isa='AVX512-VNNI'), rows=[])
    later = dict(machine=dict(conv3x3_gflops=66.0, cpu_isa='AVX2'), rows=[])
    with pytest.raises(ValueError, match='cannot merge runs of different machines: 3x3 conv '
                       '200 vs 66 GFLOP/s'):
        bench.merge(earlier, later)
    a, b = _row('repvgg:A0', 8.0), _row('parnet:s', 5.0)
    merged = bench.merge(dict(machine=later['machine'], rows=[a, b]),
                         dict(machine=later['machine'], rows=[dict(b, depth=12)]))
    assert [r['model'] for r in merged['rows']] == ['repvgg:A0', 'parnet:s']
    assert merged['rows'][1]['depth'] == 12
