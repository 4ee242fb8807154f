"""Every ImageNet config the catalogue lists (a new family gets these by being listed): it builds
the catalogue's classifier (the same parameters), runs a forward, and its deploy config takes the
fused weights strictly and gives the same logits."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmshallow
from mmshallow.analysis import count_params
from mmshallow.models.catalogue import FAMILIES
from mmshallow.utils.numerics import randomize_bn_statistics, relative_error

pytest.importorskip('mmpretrain')
from mmpretrain.registry import MODELS  # noqa: E402

CASES = [(family, arch, configs) for family in FAMILIES.values()
         for arch, configs in family.configs.items()]


def build(repo_root, config):
    cfg = Config.fromfile(str(repo_root / config))
    assert cfg.default_scope == 'mmpretrain'
    init_default_scope(cfg.default_scope)
    return MODELS.build(cfg.model).eval()


@pytest.mark.parametrize('family,arch,configs', CASES,
                         ids=[f'{f.key}-{a}' for f, a, _ in CASES])
def test_config_builds_the_catalogue_model_and_its_deploy_config_takes_the_fused_weights(
        repo_root, family, arch, configs):
    torch.manual_seed(0)
    model = build(repo_root, configs[0])
    assert type(model.backbone) is family.backbone_class
    assert count_params(model) == count_params(family.build_classifier(arch))
    randomize_bn_statistics(model)
    mmshallow.set_act_lambda(model, 1.0)  # VanillaNet: deep training finished
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x, mode='tensor')
        assert expected.shape == (2, 1000)
        if len(configs) < 2:  # nothing to fuse (MobileNeXt)
            return
        mmshallow.reparameterize(model)
        deployed = build(repo_root, configs[1])
        assert getattr(deployed.backbone, 'deploy', True)
        deployed.load_state_dict(model.state_dict(), strict=True)
        assert relative_error(deployed(x, mode='tensor'), expected) <= 1e-5
