# YOLOX (mmdet's detector, head and 300-epoch recipe) with a ParameterNet-600M backbone:
# stages 4, 6 and 9 give strides 8/16/32 with 76/212/1824 channels.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, type='mmshallow.ParameterNet', arch='parameternet-600m',
        out_indices=(4, 6, 9)),
    neck=dict(in_channels=[76, 212, 1824], out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128))

custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs=15, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001, update_buffers=True,
         priority=49),
    dict(type='mmshallow.ReparamHook'),
]
