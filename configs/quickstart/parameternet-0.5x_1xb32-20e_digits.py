# ParameterNet on the 32x32 digits: ParameterNet-300M's layout (GhostNet blocks, hard-swish,
# dynamic convs with 4 experts where the released model has them) at width 0.5 instead of 1.33
# (2.3M backbone parameters): per-sample kernels make each training step cost about as much
# as the width, and the 300M arch needs ~4 minutes here. Stride 32 leaves a 1x1 map of 480
# channels. The official head: GAP, 1x1 conv to 1280 + hard-swish, linear classifier.
# Fused (ReparamHook): each BN folded into every expert kernel of its dynamic conv.
_base_ = ['./_base_digits.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.ParameterNet', arch='parameternet-300m', widen_factor=0.5),
    neck=dict(type='mmshallow.GhostNetClsNeck', in_channels=480, out_channels=1280,
              act_cfg=dict(type='HSwish'), dropout=0.0),
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
