# The fused Semantic FPN ParNet-M + ParNetFusionNeck: backbone and neck deploy=True, FPNHead
# without norms (its BNs folded into the convs' biases). Load a *_deploy.pth checkpoint
# (ReparamHook, tools/reparameterize.py).
_base_ = './fpn_parnet-m_parnet-neck_4xb4-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(deploy=True),
    neck=dict(deploy=True),
    decode_head=dict(norm_cfg=None))
