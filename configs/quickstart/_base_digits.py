# The classification quickstart's data, schedule and runtime: scikit-learn's 1,797 handwritten
# digits (real 8x8 scans upsampled to 32x32, 10 classes, seeded 80/20 split) exported by
# tools/make_digits.py to mmpretrain's CustomDataset folders in data/digits/. Each family's
# quickstart config adds a model that takes 32x32 inputs. One CPU process, batch 32.
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

data_root = 'data/digits/'
num_classes = 10
max_epochs = 12

# The digits' gray levels (measured on the training split), for all three channels.
data_preprocessor = dict(
    num_classes=num_classes, mean=[78.0, 78.0, 78.0], std=[83.0, 83.0, 83.0], to_rgb=False)

# No flips (digits are not mirror-symmetric): small shifts only.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=2),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='train',
                 with_label=True, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root=data_root, data_prefix='val',
                 with_label=True, pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True, begin=1,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=4)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    # the last epoch only: the quickstart keeps its work dir small
    checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
# ClassCountCheckHook: the class folders must match num_classes. ReparamHook: the test run
# evaluates the fused model; training ends with a deploy checkpoint (*_deploy.pth).
custom_hooks = [dict(type='mmshallow.ClassCountCheckHook'), dict(type='mmshallow.ReparamHook')]
randomness = dict(seed=0, deterministic=False)
