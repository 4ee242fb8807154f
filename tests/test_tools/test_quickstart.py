import pytest
import torch


@pytest.mark.needs_mmcv_ops
@pytest.mark.slow
def test_quickstart_reaches_map_05_and_the_fused_model_matches(load_tool, tmp_path):
    """README's main job, end to end (~10 minutes on 2 cores): generated data, training,
    the fused model's test, the deploy checkpoint."""
    pytest.importorskip('mmdet')
    quickstart = load_tool('quickstart')
    results = quickstart.main(['--work-dir', str(tmp_path / 'work'),
                               '--data-root', str(tmp_path / 'shapes')])
    print(results)
    assert results['bbox_mAP_train_time'] >= 0.5
    assert abs(results['bbox_mAP_fused'] - results['bbox_mAP_train_time']) <= 0.005
    deploy = torch.load(results['deploy_checkpoint'])
    assert deploy['meta']['deploy'] is True

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmdet.registry import MODELS
    cfg = Config.fromfile(quickstart.CONFIG)
    cfg.model.backbone.deploy = cfg.model.neck.deploy = True
    init_default_scope('mmdet')
    MODELS.build(cfg.model).load_state_dict(deploy['state_dict'], strict=True)
