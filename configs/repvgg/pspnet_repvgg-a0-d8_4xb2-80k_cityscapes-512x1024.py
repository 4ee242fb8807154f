# PSPNet with a dilated RepVGG-A0 (output stride 8) on Cityscapes (data/cityscapes, 19 classes),
# the official repository's segmentation setting (DingXiaoH/RepVGG example_pspnet.py; README
# "Example 2"): the last two stages run at stride 1 (their 1x1 convs too) with every 3x3 conv
# dilated 2 (stage 2) and 4 (stage 3), a pyramid pooling module with bins 1, 2, 3, 6 on the last
# stage (1280 channels), dropout 0.1, and an auxiliary 3x3-conv head of 256 channels on stage 2
# (192 channels). Fused, every layer is still one (dilated) 3x3 conv + ReLU.
# mmseg's PSPHead, schedule (80k iterations, batch 8 = 4 GPUs x 2, SGD lr 0.01 poly) and
# 512x1024 crops replace the example's hszhao/semseg training code: PSPHead reduces each pyramid
# level to 512 channels (the example: 1280 / 4 = 320) before its 3x3 bottleneck to 512, and the
# auxiliary loss weight is mmseg's 0.4. No ImageNet weights are loaded (none can be downloaded
# here); the example fine-tunes the ImageNet-trained train-time backbone: set
# init_cfg=dict(type='Pretrained', checkpoint=...) on the backbone with converted weights
# (tools/model_converters/repvgg_to_mmshallow.py).
_base_ = [
    'mmseg::_base_/models/pspnet_r50-d8.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmshallow.RepVGG',
        arch='A0',
        out_indices=(0, 1, 2, 3),
        strides=(2, 2, 1, 1),
        dilations=(1, 1, 2, 4)),
    decode_head=dict(in_channels=1280),
    auxiliary_head=dict(in_channels=192))

# Tests evaluate the fused segmentor (backbone fused, heads' BNs folded); training ends with a
# deploy checkpoint (*_deploy.pth) for pspnet_repvgg-a0-d8_deploy_cityscapes-512x1024.py.
custom_hooks = [dict(type='mmshallow.ReparamHook')]
