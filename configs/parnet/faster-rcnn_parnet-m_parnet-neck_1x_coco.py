# Faster R-CNN 1x (mmdet's) with a ParNet-M backbone (strides 4/8/16/32) and a 5-level ParNet
# neck: ParNetFusionNeck to 256 channels, then ParNetDownsampleNeck adds the stride-64 level the
# RPN's anchors expect. COCO 2017 in data/coco/.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, type='mmshallow.ParNet', arch='m', out_indices=(0, 1, 2, 3)),
    neck=[
        dict(type='mmshallow.ParNetFusionNeck', in_channels=[128, 256, 512, 2048],
             out_channels=256),
        dict(type='mmshallow.ParNetDownsampleNeck', in_channels=[256, 256, 256, 256],
             num_outs=5),
    ])

custom_hooks = [dict(type='mmshallow.ReparamHook')]
