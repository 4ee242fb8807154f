# RepVGG on CIFAR-10 (the RepVGG paper has no CIFAR results; no reference number).
# Model: RepVGG-A0 without its first stage. RepVGG's stem and the first block of every stage
# have stride 2 (fixed in the design), so the ImageNet A0 leaves a 1x1 map at 32x32 and runs
# its 14-block stage on 2x2 maps. Dropping the first stage (2 blocks of 48 channels) keeps A0's
# other stages unchanged (4, 14 and 1 blocks of 96, 192 and 1280 channels, width factors
# 1.5, 1.5, 5 of 64, 128, 256) behind a 64-channel stem: maps of 16 (stem), 8, 4 and 2 pixels.
# 7.8M parameters (7.0M and 0.10 GMACs fused). Fuses to one 3x3 conv + ReLU per layer (ReparamHook).
# Recipe: mmpretrain's own CIFAR-10 recipe, inherited (its ResNet CIFAR numbers come from it):
# RandomCrop 32 pad 4 + flip, CIFAR mean/std, SGD lr 0.1 momentum 0.9 weight decay 1e-4,
# batch 128 (8 GPUs x 16), 200 epochs, lr x0.1 at epochs 100 and 150.
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.RepVGG',
                  arch=dict(num_blocks=[4, 14, 1], width_factor=[1.5, 1.5, 5]),
                  out_indices=(2, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
# Tests evaluate the fused model; training ends with a deploy checkpoint (*_deploy.pth).
custom_hooks = [dict(type='mmshallow.ReparamHook')]
