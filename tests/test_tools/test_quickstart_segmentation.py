"""The segmentation quickstart (tools/quickstart.py segmentation) and its recorded table."""
import pytest
import torch


@pytest.mark.needs_mmcv_ops
@pytest.mark.slow
def test_segmentation_quickstart_reaches_miou_80_fused_equal_and_exports(load_tool, tmp_path):
    """Issue #15's goal, end to end (~6 minutes on 2 cores): generated data, training, the
    fused segmentor's test, the deploy checkpoint in the deploy build, the ONNX parity."""
    pytest.importorskip('mmseg')
    quickstart = load_tool('quickstart')
    results = quickstart.main(['segmentation', '--work-dir', str(tmp_path / 'work'),
                               '--data-root', str(tmp_path / 'shapes_seg')])
    print(results)
    assert results['mIoU_train_time'] >= 80.0
    assert abs(results['mIoU_fused'] - results['mIoU_train_time']) <= 0.5  # 0.005 as a fraction
    assert results['total_minutes'] <= 10

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    deploy = torch.load(results['deploy_checkpoint'])
    assert deploy['meta']['deploy'] is True
    cfg = Config.fromfile(quickstart.SEG_CONFIG)
    cfg.model.backbone.deploy = True
    cfg.model.decode_head.norm_cfg = None  # ReparamHook folded the head's BNs into its convs
    init_default_scope('mmseg')
    MODELS.build(cfg.model).load_state_dict(deploy['state_dict'], strict=True)

    pytest.importorskip('mmdeploy')
    export = load_tool('export')
    assert export.main([quickstart.SEG_CONFIG, results['checkpoint'],
                        quickstart.DEPLOY_CONFIGS['segmentation'],
                        '--work-dir', str(tmp_path / 'export')]) == 0


def test_segmentation_quickstart_refuses_a_foreign_data_root(load_tool, tmp_path):
    quickstart = load_tool('quickstart')
    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'notes.txt').write_text('not a dataset')
    with pytest.raises(FileNotFoundError, match=r'img_dir/train has no \*\.jpg files'):
        quickstart._prepare_data('segmentation', str(tmp_path / 'mine'))


def test_docs_segmentation_table_is_the_recorded_run(load_tool, repo_root):
    from mmshallow.utils.generated import between
    quickstart = load_tool('quickstart')
    _, _, segmentation = quickstart._load_summaries()
    assert segmentation['mIoU_fused'] >= 80.0 and segmentation['total_minutes'] <= 10
    table = quickstart.segmentation_markdown(segmentation)
    assert f"| {segmentation['mIoU_train_time']:.2f} | {segmentation['mIoU_fused']:.2f} |" \
        in table
    assert between(str(repo_root / 'docs' / 'get_started.md'), quickstart.SEG_START,
                   quickstart.SEG_END) == table, \
        ('docs/get_started.md is stale: python tools/quickstart.py segmentation-table --write '
         'docs/get_started.md')
