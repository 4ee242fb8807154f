# RepVGG-B1 on ImageNet-1k, the paper's 120-epoch recipe (see repvgg-a0_8xb32_in1k.py).
_base_ = './repvgg-a0_8xb32_in1k.py'

model = dict(backbone=dict(arch='B1'), head=dict(in_channels=2048))
