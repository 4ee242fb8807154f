"""The family catalogue: it lists every arch of every backbone with the paper's numbers, builds
each family's official classifier, and agrees with the metafiles."""
import pytest
import torch
import yaml

from mmshallow.models.catalogue import FAMILIES, Classifier, get_family, parse_model_name

IDS = list(FAMILIES)


@pytest.mark.parametrize('family', FAMILIES.values(), ids=IDS)
def test_every_arch_of_the_backbone_has_paper_numbers(family):
    assert list(family.paper) == family.archs
    assert family.test_arch in family.archs
    assert family.backbone_class.__name__ == family.backbone_type


@pytest.mark.parametrize('family', FAMILIES.values(), ids=IDS)
def test_official_classifier_of_the_test_arch_gives_logits(family):
    model = family.build_classifier(family.test_arch, num_classes=7).eval()
    assert isinstance(model, Classifier)
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 64)).shape == (2, 7)


@pytest.mark.parametrize('family', FAMILIES.values(), ids=IDS)
def test_configs_exist_and_metafile_results_are_the_catalogues(family, repo_root):
    meta = yaml.safe_load((repo_root / 'configs' / family.key / 'metafile.yml').read_text())
    by_config = {m['Config']: m for m in meta['Models']}
    for arch, configs in family.configs.items():
        for config in configs:
            assert (repo_root / config).exists(), config
            results = by_config[config].get('Results')
            top1 = family.paper[arch].top1
            if top1 is None:
                assert not results, config
            else:
                assert results[0]['Metrics']['Top 1 Accuracy'] == top1, config


def test_model_names_resolve_and_bad_ones_say_what_is_allowed():
    family, arch = parse_model_name('mobilenext:1.0')
    assert (family.key, arch) == ('mobilenext', '1.0')
    assert family.build_backbone(arch).widen_factor == 1.0
    with pytest.raises(ValueError, match="arch 'A9' not in RepVGG archs: A0, A1"):
        parse_model_name('repvgg:A9')
    with pytest.raises(ValueError, match='family:arch with family one of repvgg, qarepvgg'):
        parse_model_name('resnet50')
    with pytest.raises(ValueError, match="family 'resnet' not in the catalogue: repvgg"):
        get_family('resnet')
    with pytest.raises(ValueError, match="fc must be a module, None or 'linear'"):
        Classifier(FAMILIES['repvgg'].build_backbone(), fc='mlp')
