# The fused (deploy) RepVGG-A0: load a checkpoint written by ReparamHook (epoch_N_deploy.pth)
# or converted by tools/reparameterize.py.
_base_ = './repvgg-a0_8xb32_in1k.py'

model = dict(backbone=dict(deploy=True))
