# MobileNeXt on CIFAR-10 (the MobileNeXt paper has no CIFAR results; no reference number).
# Model: MobileNeXt 1.0, the ImageNet arch unchanged (2.3M parameters): its stride table is
# fixed in the backbone, so the 32x32 input ends as a 1x1 map of 1280 channels, as mmpretrain's
# own MobileNetV3-small CIFAR-10 config runs its ImageNet arch. The authors' classifier: GAP,
# linear (their Dropout(0.2) has no stock mmpretrain head and is left out). MobileNeXt has no
# re-parameterizable branch: ReparamHook folds nothing and is kept so every family's CIFAR
# config trains, fuses and tests the same way.
# Recipe: mmpretrain's own CIFAR-10 recipe, inherited: RandomCrop 32 pad 4 + flip, CIFAR
# mean/std, SGD lr 0.1 momentum 0.9 weight decay 1e-4, batch 128 (8 GPUs x 16), 200 epochs,
# lr x0.1 at epochs 100 and 150.
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.MobileNeXt', widen_factor=1.0, out_indices=(7, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
custom_hooks = [dict(type='mmshallow.ReparamHook')]
