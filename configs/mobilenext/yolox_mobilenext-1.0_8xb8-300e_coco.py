# YOLOX (mmdet's detector, head and 300-epoch recipe) with a MobileNeXt-1.0 backbone: rows 2, 4
# and 7 of the authors' layer table give strides 8/16/32 with 192/384/1280 channels.
_base_ = 'mmdet::yolox/yolox_s_8xb8-300e_coco.py'

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, type='mmshallow.MobileNeXt', widen_factor=1.0, out_indices=(2, 4, 7)),
    neck=dict(in_channels=[192, 384, 1280], out_channels=128),
    bbox_head=dict(in_channels=128, feat_channels=128))
