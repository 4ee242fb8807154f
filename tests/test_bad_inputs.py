"""The bad-input suite: each case is one wrong value a user can pass, and the clear error it
gets (the exception type, and a piece of the message that names the bad value and what is
allowed). README's troubleshooting table is generated from CASES by tools/troubleshooting.py.
"""
import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Callable, NamedTuple

import pytest
import torch
import torch.nn as nn

from mmshallow.utils.dependencies import MMCV_OPS_MISSING, mmcv_has_ops

REPO = Path(__file__).resolve().parents[1]


class Case(NamedTuple):
    id: str
    bad_input: str  # what the user did, for the README table
    call: Callable  # call(tmp_path) raises
    error: str  # exception class name
    says: str  # a piece of the message


def tool(name):
    path = REPO / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(type, **cfg):
    """mmshallow's module by its scoped name: an earlier test may have left mmpretrain's
    default scope behind, where mmpretrain's RepVGG wins the plain name."""
    from mmshallow import MODELS
    return MODELS.build(dict(type=f'mmshallow.{type}', **cfg))


def classifier(num_classes=1000, deploy=False):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    return MODELS.build(dict(
        type='ImageClassifier', backbone=dict(type='mmshallow.RepVGG', arch='A0', deploy=deploy),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=1280)))


def save(model, path):
    torch.save(dict(meta=dict(), state_dict=model.state_dict()), path)
    return str(path)


def reparameterize_tool(tmp_path, checkpoint):
    """tools/reparameterize.py's loading step on the RepVGG-A0 ImageNet config."""
    return tool('reparameterize').reparameterize_checkpoint(
        str(REPO / 'configs/repvgg/repvgg-a0_8xb32_in1k.py'), checkpoint,
        str(tmp_path / 'out.pth'))


def load_into_deploy_model(tmp_path):
    classifier(deploy=True).load_state_dict(
        torch.load(save(classifier(), tmp_path / 'train.pth'))['state_dict'])


def load_into_train_model(tmp_path):
    classifier().load_state_dict(
        torch.load(save(classifier(deploy=True), tmp_path / 'deploy.pth'))['state_dict'])


def other_family_checkpoint(tmp_path):
    parnet = build(type='ParNet', arch='s')
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in parnet.state_dict().items()}),
               tmp_path / 'parnet.pth')
    reparameterize_tool(tmp_path, str(tmp_path / 'parnet.pth'))


def truncated_checkpoint(tmp_path):
    good = save(classifier(), tmp_path / 'good.pth')
    (tmp_path / 'cut.pth').write_bytes(Path(good).read_bytes()[:50_000])
    reparameterize_tool(tmp_path, str(tmp_path / 'cut.pth'))


def text_file_checkpoint(tmp_path):
    (tmp_path / 'notes.pth').write_text('not a checkpoint\n')
    reparameterize_tool(tmp_path, str(tmp_path / 'notes.pth'))


class _Payload:
    def __reduce__(self):
        return (os.system, ('echo pwned', ))


def pickled_callable_checkpoint(tmp_path):
    torch.save(dict(state_dict={}, meta=_Payload()), tmp_path / 'evil.pth')
    reparameterize_tool(tmp_path, str(tmp_path / 'evil.pth'))


def fuse_vanillanet_mid_deep_training(tmp_path):
    from mmshallow import reparameterize, set_act_lambda
    model = build(type='VanillaNet', arch='5').eval()
    set_act_lambda(model, 0.5)
    reparameterize(model)


def fuse_in_train_mode(tmp_path):
    """A warning, raised here so that the case can name it."""
    import warnings

    from mmshallow import reparameterize
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)
        reparameterize(build(type='RepVGG', arch='A0').train())


def reparameterize_none(tmp_path):
    from mmshallow import reparameterize
    reparameterize(None)


def export(config, deploy_config, tmp_path, shape=None, lam=None):
    pytest.importorskip('mmdeploy')
    from mmshallow.deploy.export import export as export_model
    return export_model(str(REPO / config), str(tmp_path / 'none.pth'),
                        str(REPO / deploy_config), str(tmp_path / 'out'), shape=shape)


def export_unfused(tmp_path):
    pytest.importorskip('mmdeploy')
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from mmshallow import set_act_lambda
    config = 'configs/vanillanet/vanillanet-5_8xb128_in1k.py'
    init_default_scope('mmpretrain')
    model = MODELS.build(Config.fromfile(str(REPO / config)).model)
    set_act_lambda(model, 0.5)
    from mmshallow.deploy.export import export as export_model
    export_model(str(REPO / config), save(model, tmp_path / 'v5.pth'),
                 str(REPO / 'configs/deploy/classification_onnxruntime_static.py'),
                 str(tmp_path / 'out'))


def missing_coco_annotations(tmp_path):
    if not mmcv_has_ops():
        pytest.skip(MMCV_OPS_MISSING)
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    DATASETS.build(dict(type='CocoDataset', data_root=str(tmp_path / 'no_such_dir'),
                        ann_file='annotations/instances_train2017.json',
                        data_prefix=dict(img='train2017/'), pipeline=[]))


SEG_BACKBONES = {'ParNet': dict(type='mmshallow.ParNet', arch='s', out_indices=(2, 3)),
                 'VanillaNet': dict(type='mmshallow.VanillaNet', arch='5', out_indices=(1, 2)),
                 'RepVGG': dict(type='mmshallow.RepVGG', arch='A0', out_indices=(2, 3))}
SEG_CHANNELS = {'ParNet': [384, 1280], 'VanillaNet': [2048, 4096], 'RepVGG': [192, 1280]}


def segmentation_train(tmp_path, backbone='ParNet', crop=(64, 64), data_root=None,
                       classes=('a', 'b', 'c'), test_pad=dict(size_divisor=32), tool_name='train'):
    """tools/train.py (or tools/test.py) on a small EncoderDecoder config (UPerHead + FCNHead,
    3 classes) over an mmseg custom-layout dataset of ``classes`` (two generated 64x64 images
    unless ``data_root`` is given)."""
    import cv2
    import numpy as np
    from mmengine.config import Config
    if data_root is None:
        data_root = tmp_path / 'seg'
        for sub in ('img_dir/train', 'ann_dir/train'):
            (data_root / sub).mkdir(parents=True)
        for i in range(2):
            cv2.imwrite(str(data_root / f'img_dir/train/{i}.png'),
                        np.full((64, 64, 3), 60 * i, np.uint8))
            cv2.imwrite(str(data_root / f'ann_dir/train/{i}.png'),
                        np.full((64, 64), i, np.uint8))
    channels = SEG_CHANNELS[backbone]
    preprocessor = dict(type='SegDataPreProcessor', size=crop)
    if test_pad:
        preprocessor['test_cfg'] = test_pad
    dataset = dict(type='BaseSegDataset', data_root=str(data_root), metainfo=dict(classes=classes),
                   data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                   img_suffix='.png', pipeline=[
                       dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                       dict(type='RandomCrop', crop_size=crop), dict(type='PackSegInputs')])
    loader = dict(batch_size=2, num_workers=0, dataset=dataset,
                  sampler=dict(type='DefaultSampler', shuffle=False))
    cfg = Config(dict(
        custom_imports=dict(imports=['mmshallow'], allow_failed_imports=False),
        default_scope='mmseg', work_dir=str(tmp_path / 'work'),
        model=dict(type='EncoderDecoder', data_preprocessor=preprocessor,
                   backbone=SEG_BACKBONES[backbone],
                   decode_head=dict(type='UPerHead', in_channels=channels, in_index=[0, 1],
                                    channels=16, pool_scales=(1, 2), num_classes=3),
                   auxiliary_head=dict(type='FCNHead', in_channels=channels[0], in_index=0,
                                       channels=8, num_convs=1, num_classes=3),
                   train_cfg=dict(), test_cfg=dict(mode='whole')),
        train_dataloader=loader, test_dataloader=loader,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=1),
        test_cfg=dict(type='TestLoop'), test_evaluator=dict(type='IoUMetric'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        custom_hooks=[dict(type='mmshallow.ClassCountCheckHook')]))
    cfg.dump(str(tmp_path / 'seg.py'))
    args = [str(tmp_path / 'seg.py')]
    if tool_name == 'test':
        (tmp_path / 'model.pth').write_bytes(b'')
        args.append(str(tmp_path / 'model.pth'))
    tool(tool_name).main(args)


def segmentation_class_count(tmp_path):
    if not mmcv_has_ops():
        pytest.skip(MMCV_OPS_MISSING)
    pytest.importorskip('mmseg', reason='mmsegmentation is not installed '
                        '(tools/install.sh --mmseg)')
    segmentation_train(tmp_path, 'RepVGG', classes=('a', 'b', 'c', 'd'))


def segmentation_without_images(tmp_path):
    (tmp_path / 'mine' / 'ann_dir' / 'train').mkdir(parents=True)
    segmentation_train(tmp_path, data_root=tmp_path / 'mine')


def digits_train(tmp_path, data_root, config='repvgg-a0_1xb32-12e_digits.py', size=32,
                 classes=None):
    """One training step of a digits quickstart config on ``data_root`` (made by ``classes``
    folders of ``size`` x ``size`` images when given)."""
    import cv2
    import numpy as np
    from mmengine.config import Config
    from mmengine.runner import Runner
    if classes is not None:
        (data_root / 'train').mkdir(parents=True, exist_ok=True)
        for label in classes:
            (data_root / 'train' / label).mkdir(parents=True)
            for i in range(2):
                cv2.imwrite(str(data_root / 'train' / label / f'{i}.png'),
                            np.full((size, size), 40 * i, np.uint8))
    cfg = Config.fromfile(str(REPO / 'configs' / 'quickstart' / config))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = str(data_root)
    cfg.train_dataloader.dataset.pipeline = [dict(type='LoadImageFromFile'),
                                             dict(type='PackInputs')]
    cfg.train_cfg = dict(by_epoch=False, max_iters=1)
    cfg.param_scheduler = []
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.default_hooks.checkpoint = None
    Runner.from_cfg(cfg).train()


def digits_quickstart_on(folder):
    def call(tmp_path):
        (tmp_path / folder / 'train' / '0').mkdir(parents=True)
        return tool('quickstart').main(['classification', '--data-root',
                                        str(tmp_path / folder), '--work-dir',
                                        str(tmp_path / 'work')])
    return call


def install_option(tmp_path):
    run = subprocess.run(['bash', str(REPO / 'tools/install.sh'), '--gpu'],
                         capture_output=True, text=True)
    raise SystemExit(f'exit {run.returncode}: {run.stderr.strip()}')


def cpu_distributed_with_slurm(tmp_path):
    from mmengine.config import Config

    from mmshallow.engine import setup_cpu_distributed
    if torch.cuda.is_available():
        pytest.skip('only a CPU-only machine refuses it')
    setup_cpu_distributed(Config(dict()), 'slurm')


def parnet_forward(size):
    def call(tmp_path):
        build(type='ParNet', arch='s')(torch.rand(1, 3, size, size))
    return call


def vanillanet_classifier_channels(tmp_path):
    classifier = build(type='VanillaNetClassifier', in_channels=512, num_classes=10)
    classifier((torch.rand(1, 256, 7, 7), ))


def fuse(norm):
    def call(tmp_path):
        from mmshallow.models.layers.fusion import fuse_conv_bn
        fuse_conv_bn(torch.rand(4, 4, 3, 3), None, norm)
    return call


def dataset_image_size(tmp_path):
    from mmshallow.data_generators import generate_shapes_coco
    generate_shapes_coco(str(tmp_path / 'shapes'), image_size=16)


def train_missing_config(tmp_path):
    tool('train').main([str(tmp_path / 'no_such_config.py')])


def benchmark(*argv):
    return lambda tmp_path: tool('benchmark').main([*argv, '--out-dir', str(tmp_path)])


def optimize(**kwargs):
    def call(tmp_path):
        from mmshallow import optimize_for_inference
        optimize_for_inference(nn.Conv2d(3, 3, 1), **kwargs)
    return call


def amp_dtype(tmp_path):
    from mmshallow.engine import CPUAmpOptimWrapper
    CPUAmpOptimWrapper(dtype='int8', optimizer=torch.optim.SGD([torch.zeros(1)], lr=0.1))


def deep_training_hook(**kwargs):
    def call(tmp_path):
        from mmshallow.engine.hooks import DeepTrainingHook
        DeepTrainingHook(**kwargs)
    return call


def set_lambda(tmp_path):
    from mmshallow import set_act_lambda
    set_act_lambda(build(type='VanillaNet', arch='5'), 1.5)


def layer(name, **kwargs):
    def call(tmp_path):
        import mmshallow.models.layers as layers
        getattr(layers, name)(**kwargs)
    return call


CASES = [
    # --- config values: arch names, widths, out_indices, stages ---
    Case('repvgg-arch', "RepVGG arch='A9'", lambda t: build(type='RepVGG', arch='A9'),
         'ValueError', "arch 'A9' not in RepVGG archs: A0, A1, A2, B0"),
    Case('parnet-arch', "ParNet arch='xxl'", lambda t: build(type='ParNet', arch='xxl'),
         'ValueError', "arch 'xxl' not in ParNet archs: s, m, l, xl"),
    Case('vanillanet-arch', "VanillaNet arch='14'", lambda t: build(type='VanillaNet', arch='14'),
         'ValueError', "arch '14' not in VanillaNet archs: 5, 6, 7"),
    Case('parameternet-arch', "ParameterNet arch='600m'",
         lambda t: build(type='ParameterNet', arch='600m'), 'ValueError',
         "arch '600m' not in ParameterNet archs: ghostnet-1.0x, parameternet-300m, "
         'parameternet-600m'),
    Case('mobilenext-width', 'MobileNeXt widen_factor=0.6',
         lambda t: build(type='MobileNeXt', widen_factor=0.6), 'ValueError',
         'widen_factor 0.6 not in MobileNeXt widen factors: 0.35, 0.5, 0.75, 1.0, 1.4'),
    Case('arch-dict-keys', 'RepVGG arch dict without width_factor',
         lambda t: build(type='RepVGG', arch=dict(num_blocks=[1, 1, 1, 1])), 'TypeError',
         'or a dict with num_blocks and width_factor'),
    Case('arch-dict-unknown-key', "RepVGG arch dict with mmpretrain's group_layer_map",
         lambda t: build(type='RepVGG', arch=dict(num_blocks=[1, 1, 1, 1],
                                                  width_factor=[1, 1, 1, 1],
                                                  group_layer_map={2: 2})), 'TypeError',
         'RepVGG arch dict has unknown key(s) group_layer_map: allowed num_blocks, '
         'width_factor, group_layers, se_ratio'),
    Case('parnet-arch-dict', 'ParNet arch dict with 3 channels',
         lambda t: build(type='ParNet', arch=dict(channels=(64, 128, 256))), 'ValueError',
         'ParNet arch needs 4 channels and 3 stream depths'),
    Case('out-indices-range', 'RepVGG out_indices=(5,)',
         lambda t: build(type='RepVGG', arch='A0', out_indices=(5, )), 'ValueError',
         'out_indices 5 out of range for RepVGG with 4 stages: allowed -4..3'),
    Case('out-indices-type', "out_indices='last'",
         lambda t: build(type='RepVGG', arch='A0', out_indices='last'), 'TypeError',
         "out_indices must be an int or a non-empty sequence of ints, got 'last'"),
    Case('frozen-stages', 'RepVGG frozen_stages=9',
         lambda t: build(type='RepVGG', arch='A0', frozen_stages=9), 'ValueError',
         'frozen_stages 9 out of range for RepVGG with 4 stages: allowed -1 (none), 0 (stem)'),
    Case('act-num', 'VanillaNet act_num=-1',
         lambda t: build(type='VanillaNet', arch='5', act_num=-1), 'ValueError',
         'act_num -1 is not allowed'),
    Case('act-lambda', 'set_act_lambda(model, 1.5)', set_lambda, 'ValueError',
         'act_lambda must be a number in [0, 1]'),
    Case('dynamic-gate', "DynamicConv2d gate='relu'",
         layer('DynamicConv2d', in_channels=4, out_channels=4, kernel_size=3, gate='relu'),
         'ValueError', "gate 'relu' not in DynamicConv2d gates"),
    Case('experts', 'GhostModule num_experts=-1',
         layer('GhostModule', in_channels=4, out_channels=4, num_experts=-1), 'ValueError',
         'num_experts -1 is not allowed'),
    Case('sandglass-stride', 'SandGlassBlock stride=3',
         layer('SandGlassBlock', in_channels=8, out_channels=8, stride=3, expand_ratio=2),
         'ValueError', 'SandGlassBlock stride 3 not allowed: 1 or 2'),
    Case('deep-training-epochs', 'DeepTrainingHook decay_epochs=0',
         deep_training_hook(decay_epochs=0), 'ValueError',
         'DeepTrainingHook decay_epochs must be a positive int, got 0'),
    Case('deep-training-schedule', "DeepTrainingHook schedule='exp'",
         deep_training_hook(schedule='exp'), 'ValueError',
         "DeepTrainingHook schedule 'exp' not in"),
    Case('amp-dtype', "CPUAmpOptimWrapper dtype='int8'", amp_dtype, 'ValueError',
         "dtype must be 'bfloat16' or 'float16', got 'int8'"),
    # --- input sizes and shapes ---
    Case('parnet-input-size', 'a 100x100 image into ParNet', parnet_forward(100), 'ValueError',
         'ParNet input size 100x100 is not divisible by 32'),
    Case('parnet-stride', 'a ParNet block with stride 3',
         layer('ParNetDownsampleBlock', in_channels=4, out_channels=4, stride=3),
         'ValueError', 'ParNet blocks take stride 1 or 2, got 3'),
    Case('neck-channels', 'a 256-channel map into VanillaNetClassifier(in_channels=512)',
         vanillanet_classifier_channels, 'ValueError',
         'VanillaNetClassifier was built for in_channels=512'),
    Case('shapes-size', 'generate_shapes_coco(image_size=16)', dataset_image_size,
         'ValueError', 'image_size must be >= 32, got 16'),
    # --- fusion ---
    Case('fuse-groupnorm', 'fusing a GroupNorm branch', fuse(nn.GroupNorm(2, 4)), 'TypeError',
         'cannot fuse a GroupNorm into a convolution'),
    Case('fuse-no-stats', 'fusing a BN built with track_running_stats=False',
         fuse(nn.BatchNorm2d(4, track_running_stats=False)), 'ValueError',
         'track_running_stats=False'),
    Case('fuse-mid-deep-training', 'reparameterize(VanillaNet) at lambda = 0.5',
         fuse_vanillanet_mid_deep_training, 'NotFusableYetError',
         'its deep-training λ (act_lambda) is 0.5, not 1'),
    Case('fuse-train-mode', 'reparameterize(model) on a model in train() mode',
         fuse_in_train_mode, 'UserWarning',
         'the fused model equals the unfused one only in eval mode: call model.eval() first'),
    Case('reparameterize-none', 'reparameterize(None)', reparameterize_none, 'TypeError',
         'reparameterize(model) takes an nn.Module (a backbone, neck, whole or wrapped model), '
         'got NoneType'),
    # --- checkpoints ---
    Case('train-ckpt-deploy-model', 'a train-time checkpoint into a deploy=True model',
         load_into_deploy_model, 'RuntimeError',
         'convert the checkpoint first with tools/reparameterize.py'),
    Case('deploy-ckpt-train-model', 'a deploy checkpoint into a train-time model',
         load_into_train_model, 'RuntimeError',
         'the checkpoint holds fused (deploy) weights but the model was built train-time'),
    Case('ckpt-other-family', 'a ParNet checkpoint for a RepVGG config',
         other_family_checkpoint, 'RuntimeError', 'missing keys in source state_dict'),
    Case('ckpt-class-count', 'a 10-class checkpoint for a 1000-class head',
         lambda t: reparameterize_tool(t, save(classifier(num_classes=10), t / 'c10.pth')),
         'RuntimeError', 'size mismatch for head.fc.weight'),
    Case('ckpt-truncated', 'a truncated checkpoint file', truncated_checkpoint,
         'CheckpointFileError', 'is not a readable PyTorch checkpoint (truncated'),
    Case('ckpt-not-a-checkpoint', 'a text file as checkpoint', text_file_checkpoint,
         'CheckpointFileError', "is not a PyTorch checkpoint: it starts with b'not '"),
    Case('ckpt-pickled-callable', 'a checkpoint carrying a pickled callable',
         pickled_callable_checkpoint, 'UnsafeCheckpointError',
         'refused to load'),
    # --- export, inference, tools ---
    Case('export-wrong-task', 'a classification deploy config for a detector',
         lambda t: export('configs/quickstart/yolox_parnet-s_1xb8-20e_shapes.py',
                          'configs/deploy/classification_onnxruntime_static.py', t),
         'ExportError', "the deploy config is for 'mmpretrain' 'Classification'"),
    Case('export-unfused', 'exporting VanillaNet before deep training ends', export_unfused,
         'ExportError', 'cannot export an unfused model'),
    Case('export-parnet-size', 'a dynamic ParNet export at 250x250',
         lambda t: export('configs/quickstart/yolox_parnet-s_1xb8-20e_shapes.py',
                          'configs/deploy/detection_onnxruntime_dynamic.py', t,
                          shape=(250, 250)),
         'ExportError', 'needs input sides divisible by 32 (dynamic-shape export'),
    Case('optimize-backend', "optimize_for_inference(backend='tensorrt')",
         optimize(example_input=torch.rand(1, 3, 8, 8), backend='tensorrt'), 'ValueError',
         "backend 'tensorrt' not in ('eager', 'torchscript', 'inductor')"),
    Case('optimize-example', 'optimize_for_inference without example_input', optimize(),
         'ValueError', 'pass example_input'),
    Case('benchmark-model', 'tools/benchmark.py --models repvgg:A9',
         benchmark('--models', 'repvgg:A9'), 'ValueError', "arch 'A9' not in RepVGG archs"),
    Case('dist-cpu-slurm', 'CPU-only distributed training with --launcher slurm',
         cpu_distributed_with_slurm, 'RuntimeError',
         'CPU-only distributed training supports launcher="pytorch"'),
    Case('train-config-path', 'tools/train.py with a config that does not exist',
         train_missing_config, 'FileNotFoundError', 'config file not found'),
    Case('dataset-path', 'a COCO data_root that does not exist', missing_coco_annotations,
         'FileNotFoundError', 'no_such_dir/annotations/instances_train2017.json'),
    Case('dataset-folder-missing', 'a CustomDataset folder that does not exist',
         lambda t: digits_train(t, t / 'no_such_dir'), 'FileNotFoundError',
         "No such file or directory: '"),
    Case('dataset-folder-empty', 'a CustomDataset folder without images',
         lambda t: digits_train(t, t, classes=()), 'RuntimeError',
         'Found 0 files in subfolders of'),
    Case('quickstart-data-root', 'tools/quickstart.py classification on a folder that is not '
         'the digits set', digits_quickstart_on('mine'), 'FileNotFoundError',
         'has no images in class folders'),
    Case('dataset-class-count', '3 class folders for a 10-class head',
         lambda t: digits_train(t, t / 'three', classes=('a', 'b', 'c')), 'ValueError',
         'has 3 classes (a, b, c) but the model has head.num_classes=10, '
         'data_preprocessor.num_classes=10'),
    Case('seg-class-count', '4 classes in a segmentation dataset for a 3-class decode head',
         segmentation_class_count, 'ValueError',
         'but the model has decode_head.num_classes=3, auxiliary_head.num_classes=3: set '
         'num_classes=4 in the model config (decode_head, and auxiliary_head when it has one)'),
    Case('seg-data-root', 'a segmentation data_root that does not exist',
         lambda t: segmentation_train(t, data_root=t / 'ADEChallengeData2016'),
         'FileNotFoundError', "train_dataloader.dataset.data_root: folder '"),
    Case('seg-image-folder', 'a segmentation data_root without the data_prefix.img_path folder',
         segmentation_without_images, 'FileNotFoundError',
         'BaseSegDataset expects data_root holding img_dir/train and img_dir/val (images) and '
         'ann_dir/train and ann_dir/val (label maps with the same file names)'),
    Case('seg-crop-size', 'a 100x100 crop for ParNet in a segmentor',
         lambda t: segmentation_train(t, crop=(100, 100)), 'ValueError',
         'model.data_preprocessor.size=(100, 100): ParNet needs input sides divisible by 32, '
         'got 100x100; use e.g. 96x96'),
    Case('seg-crop-below-stride', 'a 16x16 crop for VanillaNet-5 in a segmentor',
         lambda t: segmentation_train(t, 'VanillaNet', crop=(16, 16)), 'ValueError',
         'inputs below its total stride 32 leave no feature map: use at least 32x32'),
    Case('seg-test-unpadded', 'testing a ParNet segmentor on unpadded whole images',
         lambda t: segmentation_train(t, test_pad=None, tool_name='test'), 'ValueError',
         'but test images reach it unpadded (model.test_cfg.mode=\'whole\', no '
         'model.data_preprocessor.test_cfg): set model.data_preprocessor.test_cfg='
         'dict(size_divisor=32)'),
    Case('image-size-parnet', '36x36 images for ParNet (digits config)',
         lambda t: digits_train(t, t / 'd36', 'parnet-digits_1xb32-12e_digits.py', size=36,
                                classes=tuple('0123456789')), 'ValueError',
         'ParNet input size 36x36 is not divisible by 32'),
    Case('install-option', 'tools/install.sh --gpu', install_option, 'SystemExit',
         "exit 2: install.sh: unknown option '--gpu' (allowed: --system, --deploy"),
]


@pytest.mark.parametrize('case', CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_clear_error(case, tmp_path):
    with pytest.raises(BaseException) as info:  # SystemExit too
        case.call(tmp_path)
    if isinstance(info.value, pytest.skip.Exception):  # e.g. mmdeploy not installed
        raise info.value
    assert type(info.value).__name__ == case.error, repr(info.value)
    assert case.says in str(info.value), str(info.value)


def test_case_ids_and_bad_inputs_are_unique():
    """A repeated id makes pytest rename the tests, a repeated bad input puts two rows for
    one mistake into README's table."""
    ids = [c.id for c in CASES]
    bad_inputs = [c.bad_input for c in CASES]
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert sorted({b for b in bad_inputs if bad_inputs.count(b) > 1}) == []


def test_readme_troubleshooting_table_is_generated_from_the_cases():
    table = tool('troubleshooting').markdown_table(CASES)
    assert table in (REPO / 'docs' / 'troubleshooting.md').read_text(), \
        'docs/troubleshooting.md is stale: run python tools/troubleshooting.py --write'
