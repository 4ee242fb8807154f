# VanillaNet on CIFAR-10 with deep training (the VanillaNet paper has no CIFAR results; no
# reference number).
# Model: VanillaNet-5's layout (stem + three stages, one max-pool stride 2 each, series
# activation n=3, no shortcut) at half width, 256, 512, 1024, 2048 (4.4M backbone parameters,
# a quarter of VanillaNet-5's 17.2M), with a 4x4 stride-2 stem padded by 1 instead of the 4x4
# stride-4 one: 32 -> 16 -> 8 -> 4 -> 2 pixels (stride 4 would leave 1x1 after two stages;
# unpadded stride 2 gives odd maps, 15 -> 7 -> 3 -> 1). The official classifier head
# (VanillaNetClassifier: GAP, dropout, 1x1 conv + BN, leaky-ReLU(λ), 1x1 conv) gives the logits;
# dropout 0.05, VanillaNet-5's.
# Deep training: the activation between each pair of 1x1 convs goes from ReLU to identity over
# the first third of training (the official 100 of 300 epochs: 67 of 200), so the model fuses
# exactly at the end (ReparamHook).
# Recipe: mmpretrain's own CIFAR-10 recipe, inherited, instead of the official ImageNet one
# (LAMB, batch 1024, heavy augmentation, made for 300 ImageNet epochs): RandomCrop 32 pad 4 +
# flip, CIFAR mean/std, SGD lr 0.1 momentum 0.9 weight decay 1e-4, batch 128 (8 GPUs x 16),
# 200 epochs, lr x0.1 at epochs 100 and 150.
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.VanillaNet',
                  arch=dict(dims=[256, 512, 1024, 2048], strides=[2, 2, 2], stem_stride=2,
                            stem_padding=1),
                  act_num=3),
    neck=dict(type='mmshallow.VanillaNetClassifier', in_channels=2048, num_classes=10,
              dropout=0.05),
    head=dict(type='ClsHead', loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
              topk=(1, )))

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
custom_hooks = [
    dict(type='mmshallow.DeepTrainingHook', decay_epochs=67),
    # Tests evaluate the fused model; training ends with a deploy checkpoint (*_deploy.pth).
    dict(type='mmshallow.ReparamHook'),
]
