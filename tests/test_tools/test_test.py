"""tools/test.py: a config and a checkpoint evaluated by the config's runner (the fused model,
the config having ReparamHook), the predictions dumped with --out."""
import pickle

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, save_checkpoint

from mmshallow.testing import randomize_bn_statistics, relative_error

pytest.importorskip('mmpretrain')
from mmpretrain.registry import MODELS  # noqa: E402

CONFIG = 'configs/repvgg/repvgg-a0_8xb32_in1k.py'  # has mmshallow.ReparamHook


@pytest.fixture
def config_and_checkpoint(repo_root, tmp_path, make_tiny_imagenet,
                          shrink_classification_config):
    """The RepVGG-A0 config on 2 tiny val images, and a train-time checkpoint of random
    weights with random BN statistics (so that a wrong fusion would show)."""
    cfg = shrink_classification_config(Config.fromfile(str(repo_root / CONFIG)),
                                       make_tiny_imagenet(tmp_path / 'imagenet'), tmp_path / 'wd')
    cfg.dump(str(tmp_path / 'cfg.py'))
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = randomize_bn_statistics(MODELS.build(cfg.model)).eval()
    save_checkpoint(dict(meta=dict(epoch=1), state_dict=model.state_dict()),
                    str(tmp_path / 'train.pth'))
    return cfg, tmp_path / 'cfg.py', tmp_path / 'train.pth', model


def test_evaluates_the_checkpoint_fused_and_dumps_its_predictions(load_tool, tmp_path,
                                                                  config_and_checkpoint):
    cfg, cfg_path, checkpoint, model = config_and_checkpoint
    out = tmp_path / 'preds.pkl'
    metrics = load_tool('test').main([str(cfg_path), str(checkpoint), '--work-dir',
                                      str(tmp_path / 'wd'), '--out', str(out)])
    assert set(metrics) >= {'accuracy/top1', 'accuracy/top5'}

    with open(out, 'rb') as f:
        dumped = pickle.load(f)
    assert len(dumped) == 2
    # What the train-time model of the checkpoint predicts on the same test pipeline: the
    # tool evaluated these weights, fused by ReparamHook.
    init_default_scope('mmpretrain')
    expected = []
    with torch.no_grad():
        for batch in Runner.build_dataloader(cfg.test_dataloader):
            inputs = model.data_preprocessor(batch, False)['inputs']
            expected.append(model(inputs, mode='tensor').softmax(-1))
    got = torch.stack([sample['pred_score'] for sample in dumped])
    assert relative_error(got, torch.cat(expected)) <= 1e-5


def test_bad_arguments_are_refused_before_anything_runs(load_tool, tmp_path,
                                                        config_and_checkpoint):
    _, cfg_path, checkpoint, _ = config_and_checkpoint
    tool = load_tool('test')
    with pytest.raises(FileNotFoundError, match='checkpoint file not found: .*nope.pth'):
        tool.main([str(cfg_path), str(tmp_path / 'nope.pth')])
    with pytest.raises(ValueError, match=r"--out 'preds.json'.*must end with .pkl or .pickle"):
        tool.main([str(cfg_path), str(checkpoint), '--out', 'preds.json'])
    with pytest.raises(FileNotFoundError, match='config file not found: .*nope.py'):
        tool.main([str(tmp_path / 'nope.py'), str(checkpoint)])
