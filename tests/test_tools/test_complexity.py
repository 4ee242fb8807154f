import json

import pytest


def test_repvgg_rows_match_the_official_counts(load_tool, tmp_path, capsys):
    from mmengine.registry import init_default_scope
    pytest.importorskip('mmpretrain')
    init_default_scope('mmpretrain')  # whose own RepVGG must not be measured instead of ours
    tool = load_tool('complexity')
    out = tmp_path / 'rows.json'
    rows = tool.main(['repvgg', '--archs', 'A0', 'B1', '--json', str(out)])
    assert json.loads(out.read_text()) == rows
    a0, b1 = rows
    assert (a0['train_params'], a0['deploy_params']) == (9_108_968, 8_309_384)
    assert (b1['train_params'], b1['deploy_params']) == (57_415_016, 51_829_480)
    # paper "Theo FLOPs" 1.4 / 11.8 B; mmpretrain's metafile 1.36 G for A0
    assert a0['flops'] == pytest.approx(1.36e9, rel=0.01)
    assert b1['flops'] == pytest.approx(11.8e9, rel=0.01)
    assert '| A0 | 9.11 | 8.31 | 8.30 | 1.36 | 1.400 | 23 |' in capsys.readouterr().out


def test_unknown_arch_is_rejected_with_the_valid_ones(load_tool, capsys):
    with pytest.raises(SystemExit):
        load_tool('complexity').main(['repvgg', '--archs', 'Z9'])
    assert "arch 'Z9' not in RepVGG archs: A0, A1" in capsys.readouterr().err
