# The fused (deploy) QARepVGG-A0: load a checkpoint written by ReparamHook (epoch_N_deploy.pth)
# or converted by tools/reparameterize.py. Same layers and state dict keys as the deploy
# RepVGG-A0.
_base_ = './qarepvgg-a0_8xb32_in1k.py'

model = dict(backbone=dict(deploy=True))
