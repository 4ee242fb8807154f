# The fused ParameterNet-600M (BN folded into every expert kernel): load a *_deploy.pth
# checkpoint (ReparamHook, tools/reparameterize.py).
_base_ = './parameternet-600m_8xb128_in1k.py'

model = dict(backbone=dict(deploy=True))
