"""Every segmentation config (configs/<family>/{upernet,pspnet,fpn}_*_{ade20k,cityscapes}-*.py):
it trains two iterations (and validates) with mmengine's Runner on generated data in the
dataset's real layout; its deploy config takes the fused weights strictly and gives the same
logits; ReparamHook fuses a segmentor whole and its deploy checkpoint loads strictly, as does
tools/reparameterize.py's."""
import copy
import re
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm

import mmshallow
from mmshallow.engine import ReparamHook
from mmshallow.engine.hooks.reparam_hook import fold_head_batchnorms, reparameterize_for_deploy
from mmshallow.models.layers import ReparamModule
from mmshallow.testing import randomize_bn_statistics, relative_error

pytest.importorskip('mmseg')
pytestmark = pytest.mark.needs_mmcv_ops
from mmcv.cnn import ConvModule  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

REPO_CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
SEGMENTATION = re.compile(r'^(upernet|pspnet|fpn)_.*_(ade20k-512x512|cityscapes-512x1024)\.py$')
CONFIGS = sorted(p.relative_to(REPO_CONFIGS).as_posix() for p in REPO_CONFIGS.glob('*/*.py')
                 if SEGMENTATION.match(p.name))
TRAIN_CONFIGS = [c for c in CONFIGS if '_deploy_' not in c]
DEPLOY_PAIRS = [(re.sub(r'_deploy_', '_4xb4-160k_', c) if 'ade20k' in c
                 else re.sub(r'_deploy_', '_4xb2-80k_', c), c)
                for c in CONFIGS if '_deploy_' in c]
FAMILIES = ('repvgg', 'qarepvgg', 'parnet', 'vanillanet', 'parameternet', 'mobilenext')
# per dataset: generated image size (h, w), the crop, the resize scale (long, short side)
TINY = {'ade20k': dict(crop=(64, 64), scale=(256, 64)),
        'cityscapes': dict(crop=(64, 128), scale=(128, 64))}


def load(name):
    cfg = Config.fromfile(str(REPO_CONFIGS / name))
    assert cfg.default_scope == 'mmseg'
    init_default_scope('mmseg')
    return cfg


def dataset_of(name):
    return 'ade20k' if 'ade20k' in name else 'cityscapes'


@pytest.fixture(scope='module')
def data_roots(tmp_path_factory):
    from mmshallow.data_generators import generate_ade20k_layout, generate_cityscapes_layout
    root = tmp_path_factory.mktemp('segmentation')
    return dict(
        ade20k=generate_ade20k_layout(str(root / 'ade'), num_train=2, num_val=2)['data_root'],
        cityscapes=generate_cityscapes_layout(str(root / 'cityscapes'), num_train=2,
                                              num_val=2)['data_root'])


@pytest.fixture
def plain_config_text(monkeypatch):
    """The Runner logs and dumps its config through yapf, ~3 s a run on these configs and
    none of it under test here: plain text instead."""
    monkeypatch.setattr(Config, 'pretty_text', property(lambda cfg: str(cfg.to_dict())))


def shrink(cfg, data_root, work_dir, dataset, deploy_checkpoint=False):
    """The config on the tiny generated set: crops, resize scales, batch 2, no workers,
    2 iterations then one validation, no checkpoint files unless ``deploy_checkpoint``."""
    tiny = TINY[dataset]
    cfg.work_dir = str(work_dir)
    cfg.model.data_preprocessor.size = tiny['crop']
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = data_root
        for transform in loader.dataset.pipeline:
            if 'scale' in transform:
                transform['scale'] = tiny['scale']
            if transform['type'] == 'RandomCrop':
                transform['crop_size'] = tiny['crop']
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.logger.interval = 1
    if deploy_checkpoint:
        cfg.default_hooks.checkpoint.update(interval=2, save_last=True)
    else:  # the models run to hundreds of MB: no file a test does not read
        cfg.default_hooks.checkpoint.update(interval=-1, save_last=False)
        for hook in cfg.custom_hooks:
            if hook['type'] == 'mmshallow.ReparamHook':
                hook['save_deploy_checkpoint'] = False
    return cfg


def test_every_family_has_upernet_on_both_datasets_and_an_ade20k_deploy_config():
    for family in FAMILIES:
        ours = [c for c in CONFIGS if c.startswith(f'{family}/upernet_')]
        assert {dataset_of(c) for c in ours if '_deploy_' not in c} == {'ade20k', 'cityscapes'}
        assert any('_deploy_ade20k' in c for c in ours), family
    assert 'repvgg/pspnet_repvgg-a0-d8_4xb2-80k_cityscapes-512x1024.py' in CONFIGS
    assert 'parnet/fpn_parnet-m_parnet-neck_4xb4-160k_ade20k-512x512.py' in CONFIGS
    assert all((REPO_CONFIGS / train).is_file() for train, _ in DEPLOY_PAIRS)


@pytest.mark.parametrize('name', TRAIN_CONFIGS)
def test_config_trains_two_iterations_and_validates_on_its_datasets_layout(
        name, data_roots, tmp_path, plain_config_text):
    from mmengine.runner import Runner
    dataset = dataset_of(name)
    cfg = shrink(load(name), data_roots[dataset], tmp_path / 'wd', dataset)
    num_classes = 150 if dataset == 'ade20k' else 19
    assert cfg.model.decode_head.num_classes == num_classes
    assert cfg.train_dataloader.dataset.type == (
        'ADE20KDataset' if dataset == 'ade20k' else 'CityscapesDataset')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    assert torch.isfinite(torch.tensor(scalars['train/loss'].current()))
    assert 'val/mIoU' in scalars  # the validation pass
    model = runner.model.eval()
    with torch.no_grad():
        logits = model(torch.rand(1, 3, *TINY[dataset]['crop']), mode='tensor')
    assert logits.shape[:2] == (1, num_classes)


def bns(module):
    return [m for m in module.modules() if isinstance(m, _BatchNorm)]


def heads(model):
    return [h for h in (model.decode_head, getattr(model, 'auxiliary_head', None)) if h]


@pytest.mark.parametrize('train,deploy', DEPLOY_PAIRS, ids=[d for _, d in DEPLOY_PAIRS])
def test_deploy_config_takes_the_fused_weights_strictly_and_gives_the_same_logits(
        train, deploy):
    torch.manual_seed(0)
    model = MODELS.build(load(train).model)
    randomize_bn_statistics(model)
    mmshallow.set_act_lambda(model, 1.0)  # VanillaNet: deep training finished
    # float64: the fusion is exact, while fp32 rounding alone through a whole UPerNet comes to
    # a few 1e-6
    model.eval().double()
    x = torch.rand(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        expected = model(x, mode='tensor')
        reparameterize_for_deploy(model)  # what ReparamHook and tools/reparameterize.py do
        assert not any(bns(head) for head in heads(model))
        deployed = MODELS.build(load(deploy).model).eval().double()
        assert sorted(deployed.state_dict()) == sorted(model.state_dict())
        deployed.load_state_dict(model.state_dict(), strict=True)
        assert relative_error(deployed(x, mode='tensor'), expected) <= 1e-9
    # BNs that no conv absorbs (ParNet's skip BNs, ...) are the deploy build's own
    assert len(bns(model)) == len(bns(deployed))
    assert not any(isinstance(m, ReparamModule) and not m.deploy for m in model.modules())


def test_reparam_hook_fuses_the_segmentor_whole_and_its_deploy_checkpoint_loads_strictly(
        data_roots, tmp_path, load_tool, plain_config_text):
    from mmengine.runner import Runner, load_checkpoint
    name = 'repvgg/upernet_repvgg-a0_4xb4-160k_ade20k-512x512.py'
    deploy_name = 'repvgg/upernet_repvgg-a0_deploy_ade20k-512x512.py'
    cfg = shrink(load(name), data_roots['ade20k'], tmp_path / 'wd', 'ade20k',
                 deploy_checkpoint=True)
    runner = Runner.from_cfg(cfg)
    runner.train()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        trained = copy.deepcopy(runner.model).eval()(x, mode='tensor')

    # the deploy checkpoint written after training: the trained weights, fused whole
    deployed = MODELS.build(load(deploy_name).model).eval()
    load_checkpoint(deployed, str(tmp_path / 'wd' / 'iter_2_deploy.pth'), strict=True)
    with torch.no_grad():
        assert relative_error(deployed(x, mode='tensor'), trained) <= 1e-5

    # tools/reparameterize.py on the train-time checkpoint writes the same weights
    tool = load_tool('reparameterize')
    out = tmp_path / 'tool_deploy.pth'
    tool.reparameterize_checkpoint(str(REPO_CONFIGS / name), str(tmp_path / 'wd' / 'iter_2.pth'),
                                   str(out), shape=(64, 64))
    from_tool = torch.load(out, weights_only=False)['state_dict']
    from_hook = torch.load(tmp_path / 'wd' / 'iter_2_deploy.pth',
                           weights_only=False)['state_dict']
    assert sorted(from_tool) == sorted(from_hook) == sorted(deployed.state_dict())
    assert all(torch.equal(from_tool[k], from_hook[k]) for k in from_hook)

    # testing runs on the fused segmentor: backbone fused, no BN left in the heads
    runner.test()
    model = runner.model
    assert model.backbone.deploy and not bns(model.backbone)
    assert not any(bns(head) for head in heads(model))


class TinyDetector(nn.Module):
    """No decode_head: not a segmentor."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 1)
        self.bbox_head = ConvModule(4, 4, 3, padding=1, norm_cfg=dict(type='BN'))


def test_heads_of_detectors_keep_their_bns_unless_asked():
    model = randomize_bn_statistics(TinyDetector()).eval()
    reparameterize_for_deploy(model)
    assert len(bns(model.bbox_head)) == 1  # as mmdet deploy configs build them
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        expected = model.bbox_head(model.backbone(x))
        fold_head_batchnorms(model, fold_batchnorms=True)
        assert not bns(model.bbox_head)
        assert relative_error(model.bbox_head(model.backbone(x)), expected) <= 1e-5


def test_reparam_hook_refuses_a_fold_batchnorms_that_is_not_a_bool_or_none():
    with pytest.raises(ValueError, match="fold_batchnorms must be None .* got 'yes'"):
        ReparamHook(fold_batchnorms='yes')
