import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmshallow.engine import ReparamHook
from mmshallow.models.layers import RepVGGBlock
from mmshallow.testing import RandomImages, relative_error


class TinyRepModel(BaseModel):

    def __init__(self, deploy=False):
        super().__init__()
        self.backbone = nn.Sequential(RepVGGBlock(3, 8, stride=2, deploy=deploy),
                                      RepVGGBlock(8, 8, deploy=deploy))
        self.head = nn.Linear(8, 2)

    def forward(self, inputs, labels=None, mode='tensor'):
        logits = self.head(self.backbone(inputs).mean((2, 3)))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        if mode == 'predict':
            return list(logits)
        return logits


class RecordLogits(BaseMetric):
    records = []

    def process(self, data_batch, data_samples):
        self.results.extend(s.detach().clone() for s in data_samples)

    def compute_metrics(self, results):
        RecordLogits.records.append(torch.stack(results))
        return dict(num=len(results))


def deployed_blocks(model):
    return [m.deploy for m in model.modules() if isinstance(m, RepVGGBlock)]


class AssertNotFused(Hook):
    """Fails the run if anything is fused while training or validating."""
    calls = 0

    def _check(self, runner):
        AssertNotFused.calls += 1
        assert not any(deployed_blocks(runner.model))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._check(runner)

    def after_val_epoch(self, runner, metrics=None):
        self._check(runner)


def loader():
    return dict(dataset=RandomImages(), batch_size=4, collate_fn=dict(type='default_collate'),
                sampler=dict(type='DefaultSampler', shuffle=False))


def make_runner(work_dir, hooks, name, load_from=None, train=True):
    common = dict(
        model=TinyRepModel(), work_dir=str(work_dir), experiment_name=name,
        custom_hooks=hooks, load_from=load_from, randomness=dict(seed=0),
        test_dataloader=loader(), test_cfg=dict(), test_evaluator=[RecordLogits()],
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)))
    if train:
        common.update(
            train_dataloader=loader(), val_dataloader=loader(), val_cfg=dict(),
            val_evaluator=[RecordLogits()],
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1))
    return Runner(**common)


def expected_logits(checkpoint):
    model = TinyRepModel().eval()
    model.load_state_dict(torch.load(checkpoint)['state_dict'])
    with torch.no_grad():
        return model(RandomImages().images)


EMA = dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.1, priority=49)


@pytest.mark.parametrize('ema', [None, dict(EMA, update_buffers=True),
                                 dict(EMA, update_buffers=False)],
                         ids=['no-ema', 'ema-buffers', 'ema-params-only'])
def test_reparam_hook_fuses_for_test_only_and_saves_deploy_checkpoint(tmp_path, ema):
    hooks = ([ema] if ema else []) + [dict(type='ReparamHook'), AssertNotFused()]
    AssertNotFused.calls = 0
    runner = make_runner(tmp_path, hooks, f'train-{tmp_path.name}')
    runner.train()
    assert AssertNotFused.calls > 0 and not any(deployed_blocks(runner.model))
    expected = expected_logits(tmp_path / 'epoch_2.pth')

    # the deploy checkpoint sits next to the last checkpoint and loads into deploy=True
    deploy_ckpt = torch.load(tmp_path / 'epoch_2_deploy.pth')
    assert deploy_ckpt['meta']['deploy'] is True
    deployed = TinyRepModel(deploy=True).eval()
    deployed.load_state_dict(deploy_ckpt['state_dict'], strict=True)
    with torch.no_grad():
        assert relative_error(deployed(RandomImages().images), expected) <= 1e-5

    # test right after training: fused first, EMA's swap back still works. (Runner.test()
    # re-runs before_run, where EMAHook restarts its average from the current weights, so this
    # test evaluates the source weights.)
    with torch.no_grad():
        unfused = runner.model.eval()(RandomImages().images)
    RecordLogits.records.clear()
    runner.test()
    assert all(deployed_blocks(runner.model))
    assert relative_error(RecordLogits.records[-1], unfused) <= 1e-5
    if ema:
        ema_hook = next(h for h in runner.hooks if type(h).__name__ == 'EMAHook')
        assert all(deployed_blocks(ema_hook.ema_model.module))

    # and a test-only run from the checkpoint (tools/test.py, mim test)
    RecordLogits.records.clear()
    hooks = ([ema] if ema else []) + [dict(type='ReparamHook')]
    tester = make_runner(tmp_path / 'test', hooks, f'test-{tmp_path.name}',
                         load_from=str(tmp_path / 'epoch_2.pth'), train=False)
    tester.test()
    assert all(deployed_blocks(tester.model))
    assert relative_error(RecordLogits.records[-1], expected) <= 1e-5


def test_reparam_hook_runs_after_ema_and_can_skip_the_deploy_checkpoint(tmp_path):
    hook = ReparamHook(save_deploy_checkpoint=False)
    assert hook.priority == 'LOW'
    runner = make_runner(tmp_path, [hook], f'nosave-{tmp_path.name}')
    runner.train()
    assert not list(tmp_path.glob('*_deploy.pth'))


def test_no_deploy_checkpoint_but_a_warning_when_the_model_cannot_be_fused_yet(tmp_path):
    from mmshallow.models.layers.vanillanet_blocks import VanillaBlock
    runner = make_runner(tmp_path, [dict(type='ReparamHook')], f'lambda-{tmp_path.name}')
    runner.model.backbone.append(VanillaBlock(8, 8))
    runner.model.backbone[-1].act_lambda.fill_(0.5)
    runner.train()
    assert (tmp_path / 'epoch_2.pth').exists()
    assert not list(tmp_path.glob('*_deploy.pth'))
    log = open(runner.logger.log_file).read()
    assert 'no deploy checkpoint written' in log and 'is 0.5, not 1' in log
