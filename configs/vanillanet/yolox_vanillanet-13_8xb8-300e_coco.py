# YOLOX (mmdet's detector, head and 300-epoch recipe) with a VanillaNet-13 backbone, act_num=4
# as in the official detection configs, taps at strides 8/16/32 (stages 1, 8, 10). VanillaNet's
# taps are very wide (1024/2048/4096 channels): fed straight into YOLOXPAFPN, whose CSP layers
# keep their input widths, the neck alone would hold 314M parameters. A 1x1 ChannelMapper
# (BN + Swish, as in YOLOX) first maps every tap to 512 channels: neck 20.3M parameters.
# Deep training over the first 100 epochs, then the fused model is tested.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, type='mmshallow.VanillaNet', arch='13', act_num=4,
        out_indices=(1, 8, 10)),
    neck=[
        dict(type='ChannelMapper', in_channels=[1024, 2048, 4096], out_channels=512,
             kernel_size=1, norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
             act_cfg=dict(type='Swish')),
        dict(type='YOLOXPAFPN', in_channels=[512, 512, 512], out_channels=256,
             num_csp_blocks=3, norm_cfg=dict(type='BN', momentum=0.03, eps=0.001),
             act_cfg=dict(type='Swish')),
    ],
    bbox_head=dict(in_channels=256, feat_channels=256))

custom_hooks = [
    dict(type='mmshallow.DeepTrainingHook', decay_epochs=100),
    dict(type='YOLOXModeSwitchHook', num_last_epochs=15, priority=48),
    dict(type='SyncNormHook', priority=48),
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0001, update_buffers=True,
         priority=49),
    dict(type='mmshallow.ReparamHook'),
]
