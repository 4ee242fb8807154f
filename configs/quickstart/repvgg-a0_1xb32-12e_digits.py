# RepVGG-A0 (the ImageNet arch, unchanged) on the 32x32 digits: the stem and four stride-2
# stages leave a 1x1 map of 1280 channels. Fuses to one 3x3 conv per layer (ReparamHook).
_base_ = ['./_base_digits.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.RepVGG', arch='A0', out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=1280,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, )))
