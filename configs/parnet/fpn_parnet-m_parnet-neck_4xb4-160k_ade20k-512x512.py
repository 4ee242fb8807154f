# Semantic FPN (mmseg's FPN segmentor, ADE20K in data/ade/ADEChallengeData2016, 150 classes,
# 160k iterations, batch 16 = 4 GPUs x 4, SGD lr 0.01 poly) with ParNet's own neck: ParNet-M at
# outputs 0-3 (strides 4/8/16/32, 128/256/512/2048 channels) -> ParNetFusionNeck, which gives the
# four levels at 256 channels each, where mmseg's FPN neck would, and FPNHead merges them at
# stride 4. The neck (ParNet blocks, a PAFPN) is why this config is FPN rather than UPerNet:
# UPerHead brings its own FPN (laterals, top-down path, fpn convs) and would only repeat the neck's.
# Test images are padded to a multiple of 32 (ParNet needs even maps at every scale). No ImageNet
# weights are loaded (none can be downloaded here).
_base_ = [
    'mmseg::_base_/models/fpn_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size, test_cfg=dict(size_divisor=32))
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True, type='mmshallow.ParNet', arch='m', out_indices=(0, 1, 2, 3)),
    neck=dict(
        _delete_=True,
        type='mmshallow.ParNetFusionNeck',
        in_channels=[128, 256, 512, 2048],
        out_channels=256),
    decode_head=dict(in_channels=[256, 256, 256, 256], num_classes=150))

# Tests evaluate the fused segmentor (backbone and neck fused, the head's BNs folded); training
# ends with a deploy checkpoint (*_deploy.pth) for the *_deploy config.
custom_hooks = [dict(type='mmshallow.ReparamHook')]
