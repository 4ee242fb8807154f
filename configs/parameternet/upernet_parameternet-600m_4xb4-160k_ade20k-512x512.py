# UPerNet (mmseg's model, ADE20K in data/ade/ADEChallengeData2016, 150 classes, 160k iterations,
# batch 16 (4 GPUs x 4), SGD lr 0.01 poly) with a ParameterNet-600M backbone at stages 2, 4, 6, 9:
# strides 4/8/16/32, 44/76/212/1824 channels; the auxiliary FCNHead reads the third map (212
# channels), as mmseg's UPerNet does. No ImageNet weights are loaded (none can be downloaded here):
# set the backbone's init_cfg=dict(type='Pretrained', checkpoint=...) to fine-tune converted
# official weights.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True, type='mmshallow.ParameterNet', arch='parameternet-600m',
        out_indices=(2, 4, 6, 9)),
    decode_head=dict(in_channels=[44, 76, 212, 1824], num_classes=150),
    auxiliary_head=dict(in_channels=212, num_classes=150))

# Tests evaluate the fused segmentor (backbone fused, heads' BNs folded); training ends with a
# deploy checkpoint (*_deploy.pth) for the *_deploy config.
custom_hooks = [dict(type='mmshallow.ReparamHook')]
