"""What every mmshallow backbone promises, as every OpenMMLab backbone does: ``out_indices``,
``frozen_stages``, ``norm_eval``, ``init_cfg`` (all from :class:`BaseShallowBackbone`), and an
arch dict checked against the keys the backbone declares.

Written once, run for every family of the catalogue: a family gets these tests by being listed
in ``mmshallow.models.catalogue.FAMILIES``. The per-family files test what differs.
"""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmshallow.models.backbones import BaseShallowBackbone
from mmshallow.models.catalogue import FAMILIES
from mmshallow.testing import randomize_bn_statistics


@pytest.fixture(params=list(FAMILIES))
def family(request):
    return FAMILIES[request.param]


def build_on_meta(family, **kwargs):
    """The test arch with ``kwargs``, without weights: enough for structure and errors."""
    with torch.device('meta'):
        return family.build_backbone(family.test_arch, **kwargs)


def outputs(model):
    size = getattr(model, 'input_size', None) or (64, 64)
    torch.manual_seed(0)
    with torch.no_grad():
        return model.eval()(torch.rand(1, 3, *size))


def test_is_a_shallow_backbone(family):
    assert issubclass(family.backbone_class, BaseShallowBackbone)
    assert isinstance(build_on_meta(family), family.backbone_class)


def test_out_indices_pick_stage_outputs_shallow_first(family):
    torch.manual_seed(0)
    n = build_on_meta(family).num_stages
    every = randomize_bn_statistics(family.build_backbone(family.test_arch,
                                                          out_indices=tuple(range(n))))
    picked = family.build_backbone(family.test_arch, out_indices=(-1, 0))
    picked.load_state_dict(every.state_dict())
    all_outs, outs = outputs(every), outputs(picked)
    assert len(all_outs) == n
    assert [o.shape[1] for o in all_outs] == list(every.out_channels)
    assert len(outs) == 2
    assert torch.equal(outs[0], all_outs[0]) and torch.equal(outs[1], all_outs[-1])


def test_out_indices_out_of_range_or_of_the_wrong_type_are_refused(family):
    n = build_on_meta(family).num_stages
    for bad in (n, -n - 1):
        with pytest.raises(ValueError, match=rf'out_indices {bad} out of range for '
                                             rf'\w+ with {n} stages: allowed {-n}..{n - 1}'):
            build_on_meta(family, out_indices=(bad, ))
    with pytest.raises(TypeError, match='out_indices must be an int or a non-empty sequence'):
        build_on_meta(family, out_indices='last')


def frozen_stages_to_check(n):
    return [-1, 0, 1, n]


@pytest.mark.parametrize('which', range(4))
def test_frozen_stages_freeze_the_stem_and_that_many_stages(family, which):
    n = build_on_meta(family).num_stages
    frozen_stages = frozen_stages_to_check(n)[which]
    model = build_on_meta(family, frozen_stages=frozen_stages)
    model.train()
    parts = model.frozen_parts()
    assert len(parts) == n + 1  # part 0 is the stem
    in_model = set(model.modules())  # a part may be a ModuleList made for the occasion
    for i, part in enumerate(parts):
        frozen = i <= frozen_stages
        assert all(p.requires_grad != frozen for p in part.parameters()), i
        assert all(m.training != frozen for m in part.modules() if m in in_model), i


def test_frozen_stages_out_of_range_are_refused(family):
    n = build_on_meta(family).num_stages
    for bad in (-2, n + 1):
        with pytest.raises(ValueError, match=rf'frozen_stages {bad} out of range .* allowed -1 '
                                             rf'\(none\), 0 \(stem\) .. {n}'):
            build_on_meta(family, frozen_stages=bad)


@pytest.mark.parametrize('norm_eval', [True, False])
def test_norm_eval_keeps_every_bn_in_eval_mode_while_the_rest_trains(family, norm_eval):
    model = build_on_meta(family, norm_eval=norm_eval)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    others = [m for m in model.modules() if not isinstance(m, _BatchNorm)]
    assert bns and all(bn.training != norm_eval for bn in bns)
    assert all(m.training for m in others)


def test_init_cfg_pretrained_loads_the_checkpoint_over_the_default_init(family, tmp_path):
    torch.manual_seed(0)
    source = randomize_bn_statistics(family.build_backbone(family.test_arch))
    torch.save(dict(state_dict=source.state_dict()), tmp_path / 'backbone.pth')
    model = family.build_backbone(family.test_arch, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'backbone.pth')))
    assert any(not torch.equal(v, source.state_dict()[k]) for k, v in model.state_dict().items())
    model.init_weights()
    loaded = model.state_dict()
    assert all(torch.equal(v, loaded[k]) for k, v in source.state_dict().items())


def test_archs_use_only_the_arch_keys_the_backbone_declares(family):
    cls = family.backbone_class
    allowed = {*cls.required_arch_keys, *cls.optional_arch_keys}
    for name, settings in cls.arch_settings.items():
        assert set(cls.required_arch_keys) <= set(settings) <= allowed, name
    if not cls.arch_settings:
        pytest.skip(f'{cls.__name__} takes no arch dict')
    arch = dict(cls.arch_settings[family.test_arch], unknown_key=1)
    required = ', '.join(cls.required_arch_keys)
    with pytest.raises(TypeError, match=rf'{cls.__name__} arch dict has unknown key\(s\) '
                                        rf'unknown_key: allowed {required}'):
        with torch.device('meta'):
            cls(arch)
