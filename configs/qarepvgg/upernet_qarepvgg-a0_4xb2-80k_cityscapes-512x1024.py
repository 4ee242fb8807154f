# UPerNet (mmseg's model, Cityscapes in data/cityscapes, 19 classes, 80k iterations, batch 8 (4 GPUs
# x 2), SGD lr 0.01 poly) with a QARepVGG-A0 backbone at stages 0-3: strides 4/8/16/32,
# 48/96/192/1280 channels; the auxiliary FCNHead reads the third map (192 channels), as mmseg's
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
        _delete_=True, type='mmshallow.QARepVGG', arch='A0', out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[48, 96, 192, 1280], num_classes=19),
    auxiliary_head=dict(in_channels=192, num_classes=19))

# Tests evaluate the fused segmentor (backbone fused, heads' BNs folded); training ends with a
# deploy checkpoint (*_deploy.pth) for the *_deploy config.
custom_hooks = [dict(type='mmshallow.ReparamHook')]
