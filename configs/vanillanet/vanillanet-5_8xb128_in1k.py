# VanillaNet-5 on ImageNet-1k with the official recipe: the README's training command
# (huawei-noah/VanillaNet) and the main.py defaults it does not override. From the command:
# 300 epochs, global batch 1024 (8 GPUs x 128), LAMB lr 3.5e-3, weight decay 0.35, dropout 0.05,
# RandAugment rand-m7-mstd0.5-inc1, mixup 0.1, BCE loss, EMA 0.99996 (evaluated); from main.py's
# defaults: cutmix 1.0 (per batch either mixup or cutmix, switch prob 0.5), label smoothing 0.1
# (timm's Mixup smooths the targets, BCE included), 5 warm-up epochs then cosine to 1e-6,
# random erasing 0.25 (per-pixel noise). Deep training: the activation between the two 1x1
# convs goes from ReLU to identity over the first 100 epochs (DeepTrainingHook), after which the
# model fuses exactly.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.VanillaNet', arch='5', act_num=3),
    # the official head (GAP, dropout, 1x1 conv + BN, leaky-ReLU(lambda), 1x1 conv) gives logits
    neck=dict(type='mmshallow.VanillaNetClassifier', in_channels=4096, num_classes=1000,
              dropout=0.05),
    head=dict(
        type='ClsHead',
        # BCE on targets smoothed as timm's: (1 - 0.1) * y + 0.1 / num_classes
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, use_sigmoid=True,
                  loss_weight=1.0),
        topk=(1, 5)),
    # timm's Mixup(mixup_alpha=0.1, cutmix_alpha=1.0, prob=1.0, switch_prob=0.5, mode='batch')
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.1), dict(type='CutMix', alpha=1.0)],
                   probs=[0.5, 0.5]))

bgr_mean = [103.53, 116.28, 123.675]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=7,
        magnitude_std=0.5,
        hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean,
        fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader

optim_wrapper = dict(
    optimizer=dict(type='Lamb', lr=3.5e-3, weight_decay=0.35),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=5, end=300,
         T_max=295, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
custom_hooks = [
    dict(type='mmshallow.DeepTrainingHook', decay_epochs=100),
    dict(type='EMAHook', momentum=4e-5, priority='ABOVE_NORMAL'),
    dict(type='mmshallow.ReparamHook'),
]

auto_scale_lr = dict(base_batch_size=1024)
