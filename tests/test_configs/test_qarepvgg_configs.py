import pytest
from mmengine.config import Config
from mmengine.runner import Runner

pytest.importorskip('mmpretrain')


def test_digits_quickstart_config_trains_a_few_iterations_and_fuses(repo_root, digits_root,
                                                                    tmp_path):
    cfg = Config.fromfile(str(repo_root / 'configs/quickstart/qarepvgg-a0_1xb32-12e_digits.py'))
    cfg.work_dir = str(tmp_path)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.update(data_root=str(digits_root), indices=64)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.checkpoint.update(interval=1)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (tmp_path / 'epoch_1_deploy.pth').exists()  # ReparamHook fused the trained model
    assert type(runner.model.backbone).__name__ == 'QARepVGG'
