import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

pytest.importorskip('mmpretrain')
from mmpretrain.registry import MODELS  # noqa: E402


@pytest.mark.parametrize('name,deploy', [('qarepvgg-a0_8xb32_in1k', False),
                                         ('qarepvgg-a0_deploy_in1k', True)])
def test_imagenet_config_builds_and_runs_a_forward(repo_root, name, deploy):
    cfg = Config.fromfile(str(repo_root / 'configs' / 'qarepvgg' / f'{name}.py'))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model).eval()
    assert type(model.backbone).__name__ == 'QARepVGG' and model.backbone.deploy == deploy
    with torch.no_grad():
        assert model(torch.rand(1, 3, 224, 224), mode='tensor').shape == (1, 1000)


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
