# ParameterNet on the 32x32 digits: ParameterNet-300M's layout (GhostNet blocks, hard-swish,
# dynamic convs with 4 experts where the released model has them) at width 0.5 instead of 1.33
# (2.3M backbone parameters): per-sample kernels make each training step cost about as much
# as the width, and the 300M arch needs ~4 minutes here. Stride 32 leaves a 1x1 map of 480
# channels. The official head: GAP, 1x1 conv to 1280 + hard-swish, linear classifier.
# Fused (ReparamHook): each BN folded into every expert kernel of its dynamic conv.
_base_ = ['./_base_digits_20e.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.ParameterNet', arch='parameternet-300m', widen_factor=0.5),
    neck=dict(type='mmshallow.GhostNetClsNeck', in_channels=480, out_channels=1280,
              act_cfg=dict(type='HSwish'), dropout=0.0),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=1280,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, )))
