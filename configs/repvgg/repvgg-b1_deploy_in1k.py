# The fused (deploy) RepVGG-B1 (see repvgg-a0_deploy_in1k.py).
_base_ = './repvgg-b1_8xb32_in1k.py'

model = dict(backbone=dict(deploy=True))
