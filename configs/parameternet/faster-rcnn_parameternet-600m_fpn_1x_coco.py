# Faster R-CNN 1x with a ParameterNet-600M backbone (stages 2, 4, 6, 9: strides 4/8/16/32
# with 44/76/212/1824 channels) and mmdet's FPN.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, type='mmshallow.ParameterNet', arch='parameternet-600m',
        out_indices=(2, 4, 6, 9)),
    neck=dict(in_channels=[44, 76, 212, 1824]))

custom_hooks = [dict(type='mmshallow.ReparamHook')]
