# The fused UPerNet VanillaNet-13 (act_num=4): backbone deploy=True, heads without norms (their BNs
# folded into the convs' biases). Load a *_deploy.pth checkpoint (ReparamHook,
# tools/reparameterize.py).
_base_ = './upernet_vanillanet-13_4xb4-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(deploy=True),
    decode_head=dict(norm_cfg=None),
    auxiliary_head=dict(norm_cfg=None))
