# The fused YOLOX ParNet-M: load a *_deploy.pth checkpoint (ReparamHook, tools/reparameterize.py).
_base_ = './yolox_parnet-m_8xb8-300e_coco.py'

model = dict(backbone=dict(deploy=True), neck=dict(deploy=True))
