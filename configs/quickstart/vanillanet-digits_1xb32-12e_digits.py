# VanillaNet on the 32x32 digits with deep training. VanillaNet-5's widths (512..4096) and
# stride-4 stem leave a 1x1 map at 32x32 for 22M parameters; 'vanillanet-digits' keeps the
# 5-layer layout (stem + three stages with max-pool stride 2, series activation n=3, no
# shortcut) at widths 128, 256, 512, 1024 with a 4x4 stride-2 stem (maps 15, 7, 3, 1).
# The official classifier head (VanillaNetClassifier) gives the logits. Deep training: the
# activation between each pair of 1x1 convs goes from ReLU to identity over the first half of
# training (the official recipe: 100 of 300 epochs), so the model fuses exactly at the end.
_base_ = ['./_base_digits.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.VanillaNet',
                  arch=dict(dims=(128, 256, 512, 1024), strides=(2, 2, 2), stem_stride=2),
                  act_num=3),
    neck=dict(type='mmshallow.VanillaNetClassifier', in_channels=1024,
              num_classes={{_base_.num_classes}}, dropout=0.0),
    head=dict(type='ClsHead', loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
              topk=(1, )))

custom_hooks = [
    dict(type='mmshallow.ClassCountCheckHook'),
    dict(type='mmshallow.DeepTrainingHook', decay_epochs=6),
    dict(type='mmshallow.ReparamHook'),
]
