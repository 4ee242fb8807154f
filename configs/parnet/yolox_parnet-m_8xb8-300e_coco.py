# YOLOX (mmdet's detector, head and training recipe: mosaic, mixup, EMA, mode switch for the
# last 15 epochs, 300 epochs) with a ParNet-M backbone and ParNetFusionNeck, COCO 2017 in
# data/coco/. ParNet's strides 8/16/32 feed the neck; input sizes stay multiples of 32
# (BatchSyncRandomResize size_divisor=32, square padding at test time).
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

norm_cfg = dict(type='BN', momentum=0.03, eps=0.001)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmshallow.ParNet',
        arch='m',
        out_indices=(1, 2, 3),
        norm_cfg=norm_cfg,
        act_cfg=dict(type='SiLU')),
    neck=dict(
        _delete_=True,
        type='mmshallow.ParNetFusionNeck',
        in_channels=[256, 512, 2048],
        out_channels=192,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='SiLU')),
    bbox_head=dict(in_channels=192, feat_channels=192))

# mmdet's YOLOX hooks, plus ReparamHook: tests run on the fused model (EMA copy included) and
# training ends with a deploy checkpoint next to the last one.
custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs=15, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001, update_buffers=True,
         priority=49),
    dict(type='mmshallow.ReparamHook'),
]
