# Faster R-CNN 1x with a VanillaNet-13 backbone (act_num=4) at the official detection taps
# (stages 0, 1, 8, 10: strides 4/8/16/32, 512/1024/2048/4096 channels) and mmdet's FPN.
# Deep training over the first 4 of 12 epochs; when fine-tuning from an ImageNet checkpoint that
# finished deep training, drop the DeepTrainingHook (lambda stays 1).
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, type='mmshallow.VanillaNet', arch='13', act_num=4,
        out_indices=(0, 1, 8, 10)),
    neck=dict(in_channels=[512, 1024, 2048, 4096]))

custom_hooks = [
    dict(type='mmshallow.DeepTrainingHook', decay_epochs=4),
    dict(type='mmshallow.ReparamHook'),
]
