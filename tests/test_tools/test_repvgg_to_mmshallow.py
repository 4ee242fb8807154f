from collections import OrderedDict

import pytest
import torch
from mmengine.registry import init_default_scope

from mmshallow.models import RepVGG
from mmshallow.testing import randomize_bn_statistics

mmpretrain = pytest.importorskip('mmpretrain')
from mmpretrain.registry import MODELS  # noqa: E402

# Key names of the official code (DingXiaoH/RepVGG repvgg.py): stage0 is the stem, stage1-4
# the stages, blocks hold rbr_dense / rbr_1x1 (conv + bn), rbr_identity (bn), se.down / se.up
# (D2se), rbr_reparam after conversion; the classifier is `linear`.
OFFICIAL_BLOCK = {
    'branch_3x3.conv.': 'rbr_dense.conv.', 'branch_3x3.bn.': 'rbr_dense.bn.',
    'branch_1x1.conv.': 'rbr_1x1.conv.', 'branch_1x1.bn.': 'rbr_1x1.bn.',
    'branch_norm.': 'rbr_identity.', 'fused_conv.': 'rbr_reparam.',
    'se_layer.reduce.': 'se.down.', 'se_layer.expand.': 'se.up.',
}


def official_state_dict(backbone: RepVGG, fc: torch.nn.Linear) -> OrderedDict:
    """Lay our weights out as the official RepVGG model names them."""
    official = OrderedDict()
    for key, value in backbone.state_dict().items():
        part, _, rest = key.partition('.')
        if part == 'stem':
            prefix = 'stage0.'
        else:
            stage, _, rest = rest.partition('.')
            block, _, rest = rest.partition('.')
            prefix = f'stage{int(stage) + 1}.{block}.'
        mine = next(m for m in OFFICIAL_BLOCK if rest.startswith(m))
        official[prefix + OFFICIAL_BLOCK[mine] + rest[len(mine):]] = value
    official['linear.weight'], official['linear.bias'] = fc.weight, fc.bias
    return official


# D2se's layout (an SE layer in every block) at a size that builds in a blink
SMALL_SE = dict(num_blocks=[2, 3, 4, 1], width_factor=[0.25, 0.25, 0.25, 0.5], se_ratio=16)
ARCHS = dict(A0='A0', se=SMALL_SE)


def classifier(arch, deploy):
    init_default_scope('mmpretrain')
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='mmshallow.RepVGG', arch=arch, deploy=deploy),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=1000,
                  in_channels=RepVGG(arch).out_channels[-1])))


@pytest.mark.parametrize('deploy', [False, True], ids=['train-time', 'deploy'])
@pytest.mark.parametrize('arch', list(ARCHS.values()), ids=list(ARCHS))
def test_official_checkpoint_converts_and_loads_strictly(load_tool, tmp_path, arch, deploy):
    torch.manual_seed(0)
    backbone = randomize_bn_statistics(RepVGG(arch, deploy=deploy)).eval()
    fc = torch.nn.Linear(backbone.out_channels[-1], 1000)
    official = official_state_dict(backbone, fc)
    expected_keys = (['stage0.rbr_reparam.weight', 'stage4.0.rbr_reparam.bias'] if deploy else
                     ['stage0.rbr_dense.conv.weight', 'stage1.0.rbr_1x1.bn.running_var',
                      'stage1.1.rbr_identity.weight'])
    if arch is SMALL_SE:
        expected_keys += ['stage2.2.se.down.weight', 'stage4.0.se.up.bias']
    assert set(expected_keys) <= set(official)

    converter = load_tool('model_converters/repvgg_to_mmshallow')
    src, dst = tmp_path / 'official.pth', tmp_path / 'converted.pth'
    torch.save({'model': official}, src)  # the official scripts wrap it like this
    converter.main([str(src), str(dst)])
    converted = torch.load(dst)
    assert converted['meta']['deploy'] is deploy

    model = classifier(arch, deploy).eval()
    model.load_state_dict(converted['state_dict'], strict=True)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = fc(backbone(x)[-1].mean((2, 3)))
        assert torch.allclose(model(x, mode='tensor'), expected, atol=1e-5)


def test_convert_strips_ddp_prefix_and_rejects_unknown_keys(load_tool):
    converter = load_tool('model_converters/repvgg_to_mmshallow')
    out = converter.convert({'module.stage0.rbr_dense.conv.weight': torch.zeros(1),
                             'module.linear.bias': torch.zeros(1)})
    assert list(out) == ['backbone.stem.branch_3x3.conv.weight', 'head.fc.bias']
    with pytest.raises(KeyError, match="unexpected key .* 'stage1.0.rbr_foo.weight'"):
        converter.convert({'stage1.0.rbr_foo.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match="'backbone.x'"):
        converter.convert({'backbone.x': torch.zeros(1)})
