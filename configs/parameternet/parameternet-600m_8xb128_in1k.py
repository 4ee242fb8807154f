# ParameterNet-600M (the released parameternet_600m: GhostNet with dynamic convolution, M = 4
# experts, width 1.9, hard-swish) on ImageNet-1k, trained from scratch.
# Where the training recipe comes from: the official code (huawei-noah/Efficient-AI-Backbones,
# parameternet_pytorch/readme.md) says only "just training it using timm", with no command or
# hyper-parameters. The paper's (arXiv 2306.14525) implementation details could not be read when
# this config was written (only its abstract, Fig. 1 and the official code were), so its
# ImageNet-1K settings are NOT reproduced here: check them before comparing with its 79.0%
# (ImageNet-1K only) or 81.6% (ImageNet-22K pretraining). From the released model: dropout 0.2
# before the classifier (GhostNetClsNeck). Everything else is mmshallow's choice, a common
# timm-style recipe for ~600M-MAC mobile nets: 300 epochs, global batch 1024, SGD nesterov
# lr 0.5 (5 warm-up epochs, cosine), weight decay 4e-5, label smoothing 0.1, RandAugment
# rand-m9-mstd0.5-inc1 + random erasing 0.25 (mmpretrain's Swin ImageNet pipeline), EMA 0.9999.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.ParameterNet', arch='parameternet-600m'),
    # GAP -> 1x1 conv to 1280 (bias) + hard-swish -> dropout 0.2, as the official head
    neck=dict(type='mmshallow.GhostNetClsNeck', in_channels=1824, out_channels=1280,
              act_cfg=dict(type='HSwish'), dropout=0.2),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, loss_weight=1.0),
        topk=(1, 5)))

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=4e-5, nesterov=True),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=295, eta_min=1e-5, by_epoch=True, begin=5, end=300,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
custom_hooks = [
    dict(type='EMAHook', momentum=1e-4, priority='ABOVE_NORMAL'),
    # folds every BN after a dynamic conv into all its experts for testing and deployment
    dict(type='mmshallow.ReparamHook'),
]
auto_scale_lr = dict(base_batch_size=1024)
