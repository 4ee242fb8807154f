import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from torch.utils.data import Dataset

import mmshallow  # noqa: F401  (registers the allow-list)
from mmshallow.utils.safe_load import TORCH_LOADS_WEIGHTS_ONLY, weights_only_torch_load


class TinyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(inputs).squeeze(1)
        if mode == 'loss':
            return dict(loss=((out - labels)**2).mean())
        return out


class TinyDataset(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)), labels=torch.tensor(float(i)))


def make_runner(work_dir, max_epochs, resume=False):
    return Runner(
        model=TinyModel(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=TinyDataset(), batch_size=4,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        resume=resume, randomness=dict(seed=0),
        experiment_name=f'{work_dir.name}-{max_epochs}-{resume}')


def test_runner_resumes_from_its_own_checkpoint(tmp_path):
    make_runner(tmp_path, max_epochs=1).train()
    assert (tmp_path / 'epoch_1.pth').exists()
    runner = make_runner(tmp_path, max_epochs=2, resume=True)
    runner.train()
    assert runner.epoch == 2
    with weights_only_torch_load():  # torch >= 2.6: torch's default; older: our allow-list
        ckpt = torch.load(tmp_path / 'epoch_2.pth')
    assert ckpt['meta']['epoch'] == 2
    # the resumed run continued the message hub of the first one (4 iterations in all)
    assert ckpt['message_hub']['log_scalars']['train/loss'].data[1].sum() == 4
    model = TinyModel()
    with weights_only_torch_load():
        load_checkpoint(model, str(tmp_path / 'epoch_2.pth'))
    assert torch.equal(model.linear.weight, runner.model.linear.weight)


@pytest.mark.skipif(not TORCH_LOADS_WEIGHTS_ONLY,
                    reason=f'torch {torch.__version__} < 2.6 loads without weights_only by default')
def test_resume_fails_without_mmshallow(tmp_path):
    """The fix is needed: a plain mmengine 0.10.7 on torch >= 2.6 cannot resume."""
    make_runner(tmp_path, max_epochs=1).train()
    code = ('import torch; from mmengine.runner import load_checkpoint; import torch.nn as nn; '
            f'load_checkpoint(nn.Linear(2, 1), r"{tmp_path / "epoch_1.pth"}")')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode != 0 and 'HistoryBuffer' in result.stderr


class Payload:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_arbitrary_pickled_object_is_still_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Payload()}, path)
    with weights_only_torch_load(), pytest.raises(pickle.UnpicklingError, match='posix.system'):
        torch.load(path)
    with weights_only_torch_load(), pytest.raises(pickle.UnpicklingError, match='posix.system'):
        load_checkpoint(nn.Linear(2, 1), str(path))
    if TORCH_LOADS_WEIGHTS_ONLY:  # torch's own default refuses it too
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path)
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    assert 'TORCH_FORCE_WEIGHTS_ONLY_LOAD' not in os.environ


class Getattr:
    """Pickles as getattr(numpy.ndarray, 'tofile'): a getattr that is not a HistoryBuffer
    statistics method."""

    def __reduce__(self):
        return (getattr, (np.ndarray, 'tofile'))


def test_getattr_is_restricted_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'getattr.pth'
    torch.save({'x': Getattr()}, path)
    with weights_only_torch_load(), pytest.raises(pickle.UnpicklingError, match='getattr'):
        torch.load(path)
    buffer = HistoryBuffer([1.0, 3.0], [1, 1])
    torch.save({'buffer': buffer}, tmp_path / 'ok.pth')
    with weights_only_torch_load():
        assert torch.load(tmp_path / 'ok.pth')['buffer'].mean() == 2.0


def test_weights_only_load_is_lifted_afterwards_and_explicit_choices_are_kept(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'meta': Payload()}, path)
    load = torch.load
    with weights_only_torch_load():
        assert torch.load(tmp_path / 'evil.pth', weights_only=False)['meta'] == 0  # echo ran
    assert torch.load is load
