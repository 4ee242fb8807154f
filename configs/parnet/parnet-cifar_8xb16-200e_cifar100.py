# ParNet on CIFAR-100. Reported: 81.35% top-1 (Goyal et al., "Non-deep Networks", arXiv
# 2110.07641 / NeurIPS 2022, CIFAR table, not re-read here; its abstract: "81% on CIFAR100" at
# depth 12). The model is the CIFAR-10 config's (arch 'cifar'; parnet-cifar_8xb16-200e_cifar10.py
# says why it is mmshallow's choice) with a 100-class head. The recipe is mmpretrain's own
# CIFAR-100 recipe (its resnet50_8xb16_cifar100, 79.90%), as the paper's is unknown: CIFAR-100
# mean/std, RandomCrop 32 pad 4 + flip, SGD lr 0.1 momentum 0.9, weight decay 5e-4, batch 128
# (8 GPUs x 16), 200 epochs, lr x0.2 at epochs 60, 120 and 160.
_base_ = [
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.ParNet', arch='cifar', out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[60, 120, 160], gamma=0.2)

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
# Tests evaluate the fused model; training ends with a deploy checkpoint (*_deploy.pth).
custom_hooks = [dict(type='mmshallow.ReparamHook')]
