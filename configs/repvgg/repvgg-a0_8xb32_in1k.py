# RepVGG-A0 on ImageNet-1k with the paper's recipe (Ding et al. 2021, Table 4 setting):
# 120 epochs, SGD momentum 0.9, lr 0.1 for a global batch of 256 (8 GPUs x 32), cosine to 0,
# weight decay 1e-4 on conv and FC weights only: none on biases or on any BN, the identity
# branch's included (the official script matches 'bn' in the key, which misses rbr_identity),
# RandomResizedCrop + flip only.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/schedules/imagenet_bs256_coslr.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.RepVGG', arch='A0', out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))

param_scheduler = dict(
    type='CosineAnnealingLR', T_max=120, by_epoch=True, begin=0, end=120,
    convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=120, val_interval=1)

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
# Tests evaluate the fused model; training ends with a deploy checkpoint (*_deploy.pth).
custom_hooks = [dict(type='mmshallow.ReparamHook')]

auto_scale_lr = dict(base_batch_size=256)
