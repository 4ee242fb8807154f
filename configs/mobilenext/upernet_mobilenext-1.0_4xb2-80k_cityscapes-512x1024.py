# UPerNet (mmseg's model, Cityscapes in data/cityscapes, 19 classes, 80k iterations, batch 8 (4 GPUs
# x 2), SGD lr 0.01 poly) with a MobileNeXt-1.0 backbone at rows 1, 2, 4, 7: strides 4/8/16/32,
# 144/192/384/1280 channels; the auxiliary FCNHead reads the third map (384 channels), as mmseg's
# UPerNet does. No ImageNet weights are loaded (none can be downloaded here): set the backbone's
# init_cfg=dict(type='Pretrained', checkpoint=...) to fine-tune converted official weights.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True, type='mmshallow.MobileNeXt', widen_factor=1.0, out_indices=(1, 2, 4, 7)),
    decode_head=dict(in_channels=[144, 192, 384, 1280], num_classes=19),
    auxiliary_head=dict(in_channels=384, num_classes=19))

# MobileNeXt has no re-parameterizable block; ReparamHook still folds the heads' BNs
# (testing and the *_deploy.pth checkpoint).
custom_hooks = [dict(type='mmshallow.ReparamHook')]
