# YOLOX (mmdet's detector, head and 300-epoch recipe) with a VanillaNet-13 backbone, act_num=4
# as in the official detection configs, taps at strides 8/16/32 (stages 1, 8, 10) into mmdet's
# YOLOXPAFPN. Deep training over the first 100 epochs, then the fused model is tested.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, type='mmshallow.VanillaNet', arch='13', act_num=4,
        out_indices=(1, 8, 10)),
    neck=dict(in_channels=[1024, 2048, 4096], out_channels=256, num_csp_blocks=3),
    bbox_head=dict(in_channels=256, feat_channels=256))

custom_hooks = [
    dict(type='mmshallow.DeepTrainingHook', decay_epochs=100),
    dict(type='YOLOXModeSwitchHook', num_last_epochs=15, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001, update_buffers=True,
         priority=49),
    dict(type='mmshallow.ReparamHook'),
]
