import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint

import mmshallow
from mmshallow.testing import randomize_bn_statistics

pytest.importorskip('mmpretrain')
from mmpretrain.registry import MODELS  # noqa: E402

ARCH = dict(num_blocks=[1, 2], width_factor=[0.25, 0.5])


def config(deploy=False):
    return Config(dict(
        default_scope='mmpretrain', custom_imports=dict(imports=['mmshallow']),
        model=dict(type='ImageClassifier',
                   backbone=dict(type='mmshallow.RepVGG', arch=ARCH, deploy=deploy),
                   neck=dict(type='GlobalAveragePooling'),
                   head=dict(type='LinearClsHead', num_classes=5, in_channels=64))))


@pytest.fixture
def train_checkpoint(tmp_path):
    init_default_scope('mmpretrain')
    model = randomize_bn_statistics(MODELS.build(config().model))
    path = tmp_path / 'train.pth'
    save_checkpoint(dict(meta=dict(epoch=3), state_dict=model.state_dict()), str(path))
    return model.eval(), path


def test_tool_writes_a_deploy_checkpoint_that_matches(load_tool, tmp_path, train_checkpoint,
                                                      capsys):
    model, path = train_checkpoint
    config_file = tmp_path / 'cfg.py'
    config().dump(str(config_file))
    out = tmp_path / 'deploy.pth'
    tool = load_tool('reparameterize')
    assert tool.main([str(config_file), str(path), str(out), '--shape', '32', '32']) == 0
    printed = capsys.readouterr().out
    assert 'relative error' in printed and 'mode="tensor"' in printed

    ckpt = torch.load(out)
    assert ckpt['meta']['deploy'] is True and ckpt['meta']['epoch'] == 3
    deployed = MODELS.build(config(deploy=True).model).eval()
    deployed.load_state_dict(ckpt['state_dict'], strict=True)
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(deployed(x, mode='tensor'), model(x, mode='tensor'), atol=1e-5)


def test_tool_refuses_to_write_when_outputs_disagree(load_tool, tmp_path, train_checkpoint,
                                                     monkeypatch, capsys):
    _, path = train_checkpoint
    tool = load_tool('reparameterize')

    fuse = mmshallow.reparameterize

    def broken_fusion(model):
        fuse(model)
        with torch.no_grad():
            model.backbone.stem.fused_conv.bias.add_(1.0)
        return model

    monkeypatch.setattr(tool.mmshallow, 'reparameterize', broken_fusion)
    out = tmp_path / 'deploy.pth'
    config_file = tmp_path / 'cfg.py'
    config().dump(str(config_file))
    assert tool.main([str(config_file), str(path), str(out), '--shape', '32', '32']) == 1
    assert 'nothing written' in capsys.readouterr().err
    assert not out.exists()
