# The fused PSPNet RepVGG-A0-d8: dilated 3x3 convs only, heads without norms (their BNs folded
# into the convs' biases). Load a *_deploy.pth checkpoint (ReparamHook, tools/reparameterize.py).
_base_ = './pspnet_repvgg-a0-d8_4xb2-80k_cityscapes-512x1024.py'

model = dict(
    backbone=dict(deploy=True),
    decode_head=dict(norm_cfg=None),
    auxiliary_head=dict(norm_cfg=None))
