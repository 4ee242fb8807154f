# UPerNet with a QARepVGG-A0 backbone: the RepVGG-A0 config of the same setting
# (Cityscapes, 80k iterations, batch 8; stages 0-3, 48/96/192/1280 channels,
# auxiliary FCNHead on the third map) with QARepVGG's quantization-aware blocks, which fuse
# into the same one-3x3-conv-per-layer network.
_base_ = '../repvgg/upernet_repvgg-a0_4xb2-80k_cityscapes-512x1024.py'

model = dict(backbone=dict(type='mmshallow.QARepVGG'))
