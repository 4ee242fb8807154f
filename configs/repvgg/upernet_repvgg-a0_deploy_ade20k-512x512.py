# The fused UPerNet RepVGG-A0: backbone deploy=True, heads without norms (their BNs folded into the
# convs' biases). Load a *_deploy.pth checkpoint (ReparamHook, tools/reparameterize.py).
_base_ = './upernet_repvgg-a0_4xb4-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(deploy=True),
    decode_head=dict(norm_cfg=None),
    auxiliary_head=dict(norm_cfg=None))
