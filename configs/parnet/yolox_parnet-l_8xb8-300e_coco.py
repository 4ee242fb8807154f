# YOLOX with a ParNet-L backbone (see yolox_parnet-m_8xb8-300e_coco.py).
_base_ = './yolox_parnet-m_8xb8-300e_coco.py'

model = dict(
    backbone=dict(arch='l'),
    neck=dict(in_channels=[320, 640, 2560], out_channels=256),
    bbox_head=dict(in_channels=256, feat_channels=256))
