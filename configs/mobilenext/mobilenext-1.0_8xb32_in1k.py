# MobileNeXt-1.0 on ImageNet-1k with the recipe of the authors' runs
# (yitu-opensource/MobileNeXt mobilenext/output/*/args.yaml): SGD lr 0.1 (batch 256),
# momentum 0.9, weight decay 1e-4, 3 warm-up epochs, cosine over 200 epochs then 10 cool-down
# epochs at the final lr, label smoothing 0.1. The authors' Dropout(0.2) before the classifier
# has no stock mmpretrain head; it is left out (it holds no parameters).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.MobileNeXt', widen_factor=1.0, out_indices=(7, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        topk=(1, 5)))

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=False))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=197, eta_min=1e-5, by_epoch=True, begin=3, end=200,
         convert_to_iter_based=True),
    dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=200, end=210),
]
train_cfg = dict(by_epoch=True, max_epochs=210, val_interval=1)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=256)
