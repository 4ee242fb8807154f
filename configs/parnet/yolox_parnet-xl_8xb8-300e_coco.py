# YOLOX with a ParNet-XL backbone (see yolox_parnet-m_8xb8-300e_coco.py).
_base_ = './yolox_parnet-m_8xb8-300e_coco.py'

model = dict(
    backbone=dict(arch='xl'),
    neck=dict(in_channels=[400, 800, 3200], out_channels=320),
    bbox_head=dict(in_channels=320, feat_channels=320))
