import math
import re
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

import mmshallow
from mmshallow.engine import DeepTrainingHook
from mmshallow.models import VanillaNet, VanillaNetClassifier
from mmshallow.testing import RandomImages, relative_error

ARCH = dict(dims=[8, 16, 16], strides=[2, 1])


class TinyVanillaNet(BaseModel):

    def __init__(self, deploy=False):
        super().__init__()
        self.backbone = VanillaNet(ARCH, act_num=1, deploy=deploy)
        self.neck = VanillaNetClassifier(16, 2, deploy=deploy)

    def forward(self, inputs, labels=None, mode='tensor'):
        logits = self.neck(self.backbone(inputs))[0]
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        if mode == 'predict':
            return list(logits)
        return logits


def lambdas(model):
    return {float(b) for n, b in model.named_buffers() if n.endswith('act_lambda')}


class RecordLambda(Hook):
    """Records, per train iteration, λ of the model, of the EMA copy and in the message hub."""
    priority = 'LOWEST'

    def __init__(self):
        self.model, self.ema, self.logged, self.at_start = [], [], [], None

    def before_train(self, runner):
        self.at_start = lambdas(runner.model)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        (lam, ) = lambdas(runner.model)  # one λ for the stem, every stage and the neck
        self.model.append(lam)
        ema = [h for h in runner.hooks if type(h).__name__ == 'EMAHook']
        if ema:
            (ema_lam, ) = lambdas(ema[0].ema_model.module)
            self.ema.append(ema_lam)
        self.logged.append(runner.message_hub.get_scalar('train/act_lambda').current())


def loader():
    return dict(dataset=RandomImages(), batch_size=4, collate_fn=dict(type='default_collate'),
                sampler=dict(type='DefaultSampler', shuffle=False))


EMA = dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.1, priority=49,
           update_buffers=True)


def make_runner(work_dir, hooks, name, max_epochs=None, resume=False, load_from=None,
                max_iters=None):
    """An epoch-based runner, or with ``max_iters`` an iteration-based one (IterBasedTrainLoop);
    2 iterations per epoch."""
    by_epoch = max_iters is None
    train_cfg = dict(by_epoch=True, max_epochs=max_epochs) if by_epoch else dict(
        by_epoch=False, max_iters=max_iters, val_interval=max_iters)
    return Runner(
        model=TinyVanillaNet(), work_dir=str(work_dir), experiment_name=name,
        custom_hooks=hooks, randomness=dict(seed=0), resume=resume, load_from=load_from,
        train_dataloader=loader(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        train_cfg=train_cfg,
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=by_epoch),
                           logger=dict(type='LoggerHook', interval=1)))


def test_lambda_follows_epochs_reaches_ema_log_checkpoint_and_resume(tmp_path):
    record = RecordLambda()
    hooks = [EMA, dict(type='DeepTrainingHook', decay_epochs=2), record,
             dict(type='ReparamHook')]
    runner = make_runner(tmp_path, hooks, 'epochs', max_epochs=3)
    runner.train()
    # λ = epoch / decay_epochs at each epoch start (runner.epoch is 0-based), then 1; 2 iters
    # per epoch
    assert record.model == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    assert record.ema == record.model and record.logged == record.model
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert re.search(r'Epoch\(train\)\s+\[2\]\[2/2\].*act_lambda: 0\.5000', log)

    # checkpoints hold λ (model and EMA state), ...
    for epoch, lam in ((1, 0.0), (2, 0.5), (3, 1.0)):
        checkpoint = torch.load(tmp_path / f'epoch_{epoch}.pth')
        assert checkpoint['state_dict']['backbone.stages.1.act_lambda'] == lam
        assert checkpoint['ema_state_dict']['module.neck.act_lambda'] == lam
    # ... ReparamHook could fuse at the end since λ reached 1, ...
    deployed = TinyVanillaNet(deploy=True).eval()
    deployed.load_state_dict(torch.load(tmp_path / 'epoch_3_deploy.pth')['state_dict'])
    trained = TinyVanillaNet().eval()
    trained.load_state_dict(torch.load(tmp_path / 'epoch_3.pth')['state_dict'])
    images = RandomImages().images
    with torch.no_grad():
        assert relative_error(deployed(images), trained(images)) <= 1e-5

    # ... but refuses a checkpoint from the middle of deep training
    early = TinyVanillaNet().eval()
    early.load_state_dict(torch.load(tmp_path / 'epoch_2.pth')['state_dict'])
    with pytest.raises(RuntimeError, match=r'λ \(act_lambda\) is 0.5, not 1'):
        mmshallow.reparameterize(early)

    # resuming restores λ (and the EMA's) before the hook moves it on
    resumed_record = RecordLambda()
    resumed = make_runner(tmp_path / 'resume', [EMA, dict(type='DeepTrainingHook',
                                                          decay_epochs=4), resumed_record],
                          'resume', max_epochs=3, load_from=str(tmp_path / 'epoch_2.pth'),
                          resume=True)
    resumed.train()
    assert resumed_record.at_start == {0.5}
    assert resumed_record.model == resumed_record.ema == [0.5, 0.5]  # epoch 2 of 4


def test_lambda_follows_iterations_with_decay_iters(tmp_path):
    record = RecordLambda()
    runner = make_runner(tmp_path, [EMA, dict(type='DeepTrainingHook', decay_iters=4), record],
                         'iters', max_epochs=3)
    runner.train()
    assert record.model == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert record.ema == record.model and record.logged == record.model


def test_lambda_follows_iterations_in_an_iteration_based_loop(tmp_path):
    record = RecordLambda()
    runner = make_runner(tmp_path, [EMA, dict(type='DeepTrainingHook', decay_iters=4), record,
                                    dict(type='ReparamHook')], 'iter_loop', max_iters=6)
    assert type(runner.train_loop).__name__ == 'IterBasedTrainLoop'
    runner.train()
    assert runner.iter == 6
    assert record.model == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    assert record.ema == record.model and record.logged == record.model
    assert lambdas(runner.model) == {1.0}
    checkpoint = torch.load(tmp_path / 'iter_6.pth')
    assert checkpoint['state_dict']['backbone.stages.1.act_lambda'] == 1.0
    assert (tmp_path / 'iter_6_deploy.pth').exists()  # λ reached 1: ReparamHook fused


def test_an_iteration_based_loop_without_decay_iters_is_an_error(tmp_path):
    # decay_epochs would leave λ at 0 for the whole run: IterBasedTrainLoop has one "epoch"
    runner = make_runner(tmp_path, [dict(type='DeepTrainingHook', decay_epochs=2)], 'no_iters',
                         max_iters=4)
    with pytest.raises(ValueError, match=r'DeepTrainingHook needs decay_iters with an '
                                         r'iteration-based train loop \(IterBasedTrainLoop, '
                                         r'max_iters=4\).*set decay_iters'):
        runner.train()
    assert runner.iter == 0


def test_schedules():
    linear, cosine = DeepTrainingHook(), DeepTrainingHook(schedule='cosine')
    assert [linear.act_lambda(e, 100) for e in (0, 1, 50, 100, 150)] == [0, .01, .5, 1, 1]
    for e in (0, 10, 50, 99, 100, 300):
        expected = 0.5 * (1 - math.cos(math.pi * min(e, 100) / 100))
        assert cosine.act_lambda(e, 100) == pytest.approx(expected)
    assert cosine.act_lambda(100, 100) == 1.0


@pytest.mark.parametrize('kwargs,message', [
    (dict(decay_epochs=0), 'decay_epochs must be a positive int, got 0'),
    (dict(decay_epochs=-5), 'decay_epochs must be a positive int, got -5'),
    (dict(decay_epochs=2.5), 'decay_epochs must be a positive int, got 2.5'),
    (dict(decay_iters=0), 'decay_iters must be a positive int, got 0'),
    (dict(schedule='step'), "schedule 'step' not in: linear, cosine"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        DeepTrainingHook(**kwargs)


def test_a_model_without_lambda_is_an_error():
    runner = SimpleNamespace(model=nn.Conv2d(1, 1, 1), hooks=[], epoch=0)
    with pytest.raises(RuntimeError, match='found no module with an act_lambda buffer'):
        DeepTrainingHook().before_train_epoch(runner)
