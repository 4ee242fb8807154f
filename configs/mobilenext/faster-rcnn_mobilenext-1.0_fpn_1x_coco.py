# Faster R-CNN 1x with a MobileNeXt-1.0 backbone (rows 1, 2, 4, 7: strides 4/8/16/32 with
# 144/192/384/1280 channels) and mmdet's FPN.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, type='mmshallow.MobileNeXt', widen_factor=1.0,
        out_indices=(1, 2, 4, 7)),
    neck=dict(in_channels=[144, 192, 384, 1280]))
