import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmshallow.models import QARepVGG, QARepVGGBlock, RepVGG
from mmshallow.testing import calibrate_bn, count_params, relative_error


@torch.no_grad()
def randomize_bn_affine(model):
    generator = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.weight.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
            m.bias.copy_(torch.rand(m.num_features, generator=generator) * 0.4 - 0.2)


def identity_channels(backbone):
    return sum(block.out_channels for block in backbone.modules()
               if isinstance(block, QARepVGGBlock) and block.has_identity)


@pytest.mark.parametrize('arch', sorted(QARepVGG.arch_settings))
def test_every_arch_deploys_to_the_repvgg_of_the_same_arch(arch):
    with torch.device('meta'):
        model = QARepVGG(arch, out_indices=(0, 1, 2, 3))
        model.switch_to_deploy()
        repvgg = RepVGG(arch, out_indices=(0, 1, 2, 3), deploy=True)
    assert model.deploy and not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert model.state_dict().keys() == repvgg.state_dict().keys()
    assert count_params(model) == count_params(repvgg)


# one arch per kind of block: plain, grouped (B*g4: groups on even layers), SE (D2se)
@pytest.mark.parametrize('arch', ['A0', 'B1g4', 'D2se'])
def test_fused_backbone_matches_train_time(arch):
    torch.manual_seed(0)
    if arch == 'D2se':
        # 48 identities without BN grow random-weight activations past float32's range for an
        # exact comparison; its SE blocks, at a depth that stays finite:
        arch = dict(num_blocks=[2, 2, 2, 1], width_factor=[2.5, 2.5, 2.5, 5], se_ratio=16)
    model = QARepVGG(arch, out_indices=(0, 1, 2, 3))
    model.init_weights()
    # BN statistics of real activations (random ones let 48 un-normalized identities of D2se
    # blow the activations up to where float32 rounding alone differs by percents)
    x = torch.randn(2, 3, 32, 32)
    calibrate_bn(model, [x])
    randomize_bn_affine(model)
    x = x[:1]
    with torch.no_grad():
        expected = model(x)
        model.switch_to_deploy()
        fused = model(x)
    assert not any(isinstance(m, _BatchNorm) for m in model.modules())
    assert relative_error(fused, expected) <= 1e-5
    assert model.state_dict().keys() == type(model)(arch, deploy=True).state_dict().keys()


@pytest.mark.parametrize('arch', ['A0', 'B1g2', 'D2se'])
def test_train_time_params_trade_the_identity_bn_for_nothing(arch):
    """QARepVGG swaps each 1x1 BN for a post-sum BN of the same width and drops the identity
    BN: 2 parameters fewer per identity channel than RepVGG."""
    with torch.device('meta'):
        qa, rep = QARepVGG(arch), RepVGG(arch)
    assert count_params(qa) == count_params(rep) - 2 * identity_channels(qa)
    assert identity_channels(qa) > 0


def test_builds_from_the_registry_in_mmpretrains_scope():
    pytest.importorskip('mmpretrain')
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(type='mmshallow.QARepVGG', arch='A0', frozen_stages=1,
                                  norm_eval=True))
    assert type(model) is QARepVGG
    model.train()
    assert not any(m.training for m in model.modules() if isinstance(m, _BatchNorm))
    assert all(not p.requires_grad for p in model.stages[0].parameters())
    assert all(p.requires_grad for p in model.stages[1].parameters())


def test_repvgg_deploy_checkpoint_loads_into_a_deploy_qarepvgg():
    deployed = RepVGG('A0', deploy=True).state_dict()
    QARepVGG('A0', deploy=True).load_state_dict(deployed, strict=True)
    with pytest.raises(RuntimeError, match='train-time .*tools/reparameterize.py'):
        QARepVGG('A0', deploy=True).load_state_dict(QARepVGG('A0').state_dict())


def test_unknown_arch_lists_the_valid_ones():
    with pytest.raises(ValueError, match="arch 'C9' not in QARepVGG archs: A0, A1, A2, B0"):
        QARepVGG('C9')
