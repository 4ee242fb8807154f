# MobileNeXt 1.0 (the ImageNet arch, SandGlass blocks, unchanged) on the 32x32 digits: stride
# 32 leaves a 1x1 map of 1280 channels. MobileNeXt has no re-parameterizable branch; the
# ReparamHook test run is the same model (it folds nothing), kept for a uniform quickstart.
_base_ = ['./_base_digits_20e.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.MobileNeXt', widen_factor=1.0, out_indices=(7, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=1280,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, )))
