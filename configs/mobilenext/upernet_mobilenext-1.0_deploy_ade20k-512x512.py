# UPerNet MobileNeXt-1.0 for deploy checkpoints: MobileNeXt has nothing to fuse, the heads have no
# norms (their BNs folded into the convs' biases). Load a *_deploy.pth checkpoint (ReparamHook,
# tools/reparameterize.py).
_base_ = './upernet_mobilenext-1.0_4xb4-160k_ade20k-512x512.py'

model = dict(
    decode_head=dict(norm_cfg=None),
    auxiliary_head=dict(norm_cfg=None))
