# VanillaNet-13-1.5x on ImageNet-1k (recipe: see vanillanet-13_8xb128_in1k.py).
_base_ = './vanillanet-13_8xb128_in1k.py'

model = dict(backbone=dict(arch='13-1.5x'), neck=dict(in_channels=6144))
