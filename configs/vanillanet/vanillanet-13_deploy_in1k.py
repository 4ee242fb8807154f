# The fused VanillaNet-13 (one 1x1 conv per block, fused series activations and head): load
# a *_deploy.pth checkpoint (ReparamHook after deep training, or tools/reparameterize.py).
_base_ = './vanillanet-13_8xb128_in1k.py'

model = dict(backbone=dict(deploy=True), neck=dict(deploy=True))
