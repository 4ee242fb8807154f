import pytest
import torch.utils.checkpoint


@pytest.fixture
def checkpoint_calls(monkeypatch):
    """The calls of ``torch.utils.checkpoint.checkpoint`` (which mmshallow's ``with_cp`` blocks
    go through) during the test, each recorded as the function checkpointed; the calls still
    checkpoint."""
    calls = []
    original = torch.utils.checkpoint.checkpoint

    def counting(function, *args, **kwargs):
        calls.append(function)
        return original(function, *args, **kwargs)

    monkeypatch.setattr(torch.utils.checkpoint, 'checkpoint', counting)
    return calls
