"""Every entry point that loads a checkpoint refuses one carrying an arbitrary pickled callable,
and says what it refused and how a user who trusts the file can go on."""
import os
import re

import pytest
import torch
from mmengine.config import Config

from mmshallow.utils import UnsafeCheckpointError

REFUSED = r'refused to load .*evil\.pth.*posix\.system.*If you trust the file.*add_safe_globals'


class Payload:
    """Unpickles as os.system('echo pwned > <marker>'): a code-execution payload."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'echo pwned > {self.marker}', ))


@pytest.fixture
def evil(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Payload(tmp_path / 'pwned')}, path)
    yield path
    assert not (tmp_path / 'pwned').exists()  # the payload never ran


def test_tools_reparameterize_refuses(load_tool, repo_root, evil, capsys):
    config = repo_root / 'configs/repvgg/repvgg-a0_8xb32_in1k.py'
    tool = load_tool('reparameterize')
    assert tool.main([str(config), str(evil), str(evil.parent / 'o.pth')]) == 1
    assert re.search(REFUSED, capsys.readouterr().err)
    with pytest.raises(UnsafeCheckpointError, match=REFUSED):
        tool.reparameterize_checkpoint(str(config), str(evil), str(evil.parent / 'o.pth'))


@pytest.mark.parametrize('family', ['repvgg', 'parnet', 'vanillanet'])
def test_official_checkpoint_converters_refuse(load_tool, evil, family):
    tool = load_tool(f'model_converters/{family}_to_mmshallow')
    with pytest.raises(UnsafeCheckpointError, match=REFUSED):
        tool.main([str(evil), str(evil.parent / 'out.pth')])


def test_tools_export_refuses(load_tool, repo_root, evil):
    pytest.importorskip('mmdeploy')
    from mmshallow.deploy.export import export
    with pytest.raises(UnsafeCheckpointError, match=REFUSED):
        export(
            str(repo_root / 'configs/repvgg/repvgg-a0_8xb32_in1k.py'), str(evil),
            str(repo_root / 'configs/deploy/classification_onnxruntime_static.py'),
            str(evil.parent / 'out'))


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_tools_train_resume_and_test_refuse(load_tool, repo_root, tmp_path, evil,
                                            make_tiny_imagenet, shrink_classification_config,
                                            tool):
    cfg = shrink_classification_config(
        Config.fromfile(str(repo_root / 'configs/repvgg/repvgg-a0_8xb32_in1k.py')),
        make_tiny_imagenet(tmp_path / 'imagenet'), tmp_path / 'wd')
    cfg.dump(str(tmp_path / 'cfg.py'))
    args = ['--resume', str(evil)] if tool == 'train' else [str(evil)]
    with pytest.raises(UnsafeCheckpointError, match=REFUSED):
        load_tool(tool).main([str(tmp_path / 'cfg.py'), *args])
