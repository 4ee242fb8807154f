import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule, MMDistributedDataParallel

from mmshallow import reparameterize
from mmshallow.models.layers import RepVGGBlock
from mmshallow.testing import randomize_bn_statistics, relative_error


class TimmStyleInPlace(nn.Module):
    """timm's protocol: ``reparameterize()`` fuses in place."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.fused = False

    def reparameterize(self):
        self.fused = True

    def forward(self, x):
        return self.bn(self.conv(x))


class TimmStyleFuse(nn.Module):
    """timm's other protocol: ``fuse()`` returns the replacement module."""

    def fuse(self):
        return nn.Identity()

    def forward(self, x):
        return x


class Net(BaseModule):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(RepVGGBlock(3, 8, stride=2), RepVGGBlock(8, 8))
        self.neck = nn.ModuleDict(dict(block=RepVGGBlock(8, 8, groups=2)))
        self.timm_in_place = TimmStyleInPlace()
        self.timm_fuse = TimmStyleFuse()

    def forward(self, x):
        x = self.neck['block'](self.backbone(x))
        return self.timm_fuse(x)


def _net():
    torch.manual_seed(0)
    return randomize_bn_statistics(Net()).eval()


def test_reparameterize_fuses_every_module_in_place_and_returns_the_model():
    net = _net()
    x = torch.randn(2, 3, 16, 16)
    expected = net(x)
    assert reparameterize(net) is net
    blocks = [m for m in net.modules() if isinstance(m, RepVGGBlock)]
    assert len(blocks) == 3 and all(b.deploy for b in blocks)
    assert net.timm_in_place.fused
    assert isinstance(net.timm_fuse, nn.Identity)
    assert relative_error(net(x), expected) <= 1e-5


def test_reparameterize_is_idempotent():
    net = reparameterize(_net())
    state = {k: v.clone() for k, v in net.state_dict().items()}
    reparameterize(net)
    assert state.keys() == net.state_dict().keys()
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in state.items())


def test_reparameterize_unwraps_ddp(tmp_path):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store', rank=0,
                            world_size=1)
    try:
        net = _net()
        x = torch.randn(1, 3, 16, 16)
        expected = net(x)
        wrapped = MMDistributedDataParallel(net)
        assert reparameterize(wrapped) is wrapped
        assert all(b.deploy for b in net.modules() if isinstance(b, RepVGGBlock))
        assert relative_error(wrapped.module(x), expected) <= 1e-5
        plain_ddp = nn.parallel.DistributedDataParallel(_net())
        reparameterize(plain_ddp)
        assert all(b.deploy for b in plain_ddp.module.modules() if isinstance(b, RepVGGBlock))
    finally:
        dist.destroy_process_group()


def test_loading_train_time_weights_into_deploy_model_names_the_tool():
    train_state = RepVGGBlock(8, 8).state_dict()
    deployed = RepVGGBlock(8, 8, deploy=True)
    with pytest.raises(RuntimeError, match=r'train-time .* deploy=True.*tools/reparameterize.py'):
        deployed.load_state_dict(train_state)


def test_loading_deploy_weights_into_train_time_model_says_so():
    deploy_state = RepVGGBlock(8, 8, deploy=True).state_dict()
    with pytest.raises(RuntimeError, match='fused \\(deploy\\) weights .* built train-time'):
        RepVGGBlock(8, 8).load_state_dict(deploy_state)


def test_fusing_a_model_in_train_mode_warns_with_the_fix():
    net = _net().train()
    with pytest.warns(UserWarning, match=r'Net is in train\(\) mode.*call model.eval\(\) first'):
        reparameterize(net)
    assert all(b.deploy for b in net.modules() if isinstance(b, RepVGGBlock))


def test_fusing_a_model_in_eval_mode_says_nothing():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        reparameterize(_net())


@pytest.mark.parametrize('bad', [None, 'model.pth', {'state_dict': {}}])
def test_reparameterize_of_no_module_names_what_it_got(bad):
    with pytest.raises(TypeError, match=r'takes an nn.Module .*, got '
                                        rf'{type(bad).__name__}$'):
        reparameterize(bad)
