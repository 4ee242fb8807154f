# MobileNeXt 1.0 (the ImageNet arch, SandGlass blocks, unchanged) on the 32x32 digits: stride
# 32 leaves a 1x1 map of 1280 channels. MobileNeXt has no re-parameterizable branch; the
# ReparamHook test run is the same model (it folds nothing), kept for a uniform quickstart.
_base_ = ['./_base_digits.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.MobileNeXt', widen_factor=1.0, out_indices=(7, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=1280,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, )))

# 20 epochs instead of the base's 12: depthwise nets at a 1x1 final map converge slower here
# (12 epochs: ~97 % top-1; 20: ~98 %).
max_epochs = 20
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, by_epoch=True, begin=1,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
