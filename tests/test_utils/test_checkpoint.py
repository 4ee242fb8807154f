"""save_weights_checkpoint: the one writer of deploy and converted checkpoints."""
import pytest
import torch
import torch.nn as nn

from mmshallow.utils.checkpoint import save_weights_checkpoint
from mmshallow.version import __version__


def test_writes_meta_and_cpu_state_dict(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    out = tmp_path / 'sub' / 'deploy.pth'  # the folder is created
    meta = dict(epoch=3, dataset_meta=dict(classes=('a', 'b')))
    assert save_weights_checkpoint(model, str(out), meta) == str(out)
    ckpt = torch.load(out)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert ckpt['meta'] == dict(epoch=3, dataset_meta=dict(classes=('a', 'b')), deploy=True,
                                mmshallow_version=__version__)
    assert meta == dict(epoch=3, dataset_meta=dict(classes=('a', 'b')))  # not changed
    assert ckpt['state_dict'].keys() == model.state_dict().keys()
    assert all(v.device.type == 'cpu' for v in ckpt['state_dict'].values())
    nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).load_state_dict(ckpt['state_dict'])


def test_state_dict_and_train_time_layout(tmp_path):
    out = tmp_path / 'converted.pth'
    save_weights_checkpoint({'w': torch.ones(2)}, str(out), dict(converted_from='x'),
                            deploy=False)
    ckpt = torch.load(out)
    assert ckpt['meta']['deploy'] is False and ckpt['meta']['converted_from'] == 'x'
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial_one(tmp_path, monkeypatch):
    out = tmp_path / 'deploy.pth'
    save_weights_checkpoint({'w': torch.zeros(1)}, str(out))

    def broken_save(obj, f, *args, **kwargs):
        f.write(b'half a checkpoint')
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(OSError, match='disk full'):
        save_weights_checkpoint({'w': torch.ones(1)}, str(out))
    monkeypatch.undo()
    assert torch.load(out)['state_dict']['w'].item() == 0
    assert list(tmp_path.iterdir()) == [out]


def test_refuses_what_is_no_state_dict(tmp_path):
    with pytest.raises(TypeError, match='weights must be an nn.Module or a state dict.*list'):
        save_weights_checkpoint([torch.ones(1)], str(tmp_path / 'x.pth'))
