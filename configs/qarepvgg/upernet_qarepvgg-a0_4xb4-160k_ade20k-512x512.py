# UPerNet with a QARepVGG-A0 backbone: the RepVGG-A0 config of the same setting
# (ADE20K, 160k iterations, batch 16; stages 0-3, 48/96/192/1280 channels,
# auxiliary FCNHead on the third map) with QARepVGG's quantization-aware blocks, which fuse
# into the same one-3x3-conv-per-layer network.
_base_ = '../repvgg/upernet_repvgg-a0_4xb4-160k_ade20k-512x512.py'

model = dict(backbone=dict(type='mmshallow.QARepVGG'))
