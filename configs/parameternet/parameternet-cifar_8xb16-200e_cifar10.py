# ParameterNet on CIFAR-10 (the ParameterNet paper reports ImageNet only; no reference number).
# Model: the released ParameterNet-600M's block table (GhostNet bottlenecks, dynamic convs with
# M = 4 experts, sigmoid gate, hard-swish) at width 1.0 instead of 1.9 (10.0M parameters with
# the head instead of 34.5M), with two stride-2 bottlenecks made stride 1 (the first 24- and the
# first 40-channel ones, the rows marked <-), as CIFAR versions of mobile nets do: after the
# stride-2 stem the maps are 16, 16, 8 and 4 pixels instead of 8, 4, 2 and 1 (stride 32 would
# leave a 1x1 map). The official head: GAP, 1x1 conv to 1280 + hard-swish, dropout 0.2, linear.
# Fused (ReparamHook): each BN folded into every expert kernel of its dynamic conv.
# Recipe: mmpretrain's own CIFAR-10 recipe, inherited: RandomCrop 32 pad 4 + flip, CIFAR
# mean/std, SGD lr 0.1 momentum 0.9 weight decay 1e-4, batch 128 (8 GPUs x 16), 200 epochs,
# lr x0.1 at epochs 100 and 150.
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

# mmshallow.models.backbones.parameternet.PARAMETERNET_BLOCKS with two strides set to 1.
# One list per stage, one row per bottleneck: dw kernel, expanded, out, SE ratio, stride.
blocks = [
    [[3, 16, 16, 0, 1]],
    [[3, 48, 24, 0, 1]],  # <- stride 2 in the ImageNet net
    [[3, 72, 24, 0, 1]],
    [[5, 72, 40, 0.25, 1]],  # <- stride 2 in the ImageNet net
    [[3, 120, 40, 0.25, 1]] * 2,
    [[3, 240, 80, 0, 2]],
    [[3, 200, 80, 0, 1]] * 3 + [[3, 480, 112, 0.25, 1]] + [[3, 672, 112, 0.25, 1]] * 2,
    [[5, 672, 160, 0.25, 2]],
    [[3, 960, 160, 0.25, 1]] * 5,
]

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.ParameterNet',
                  arch=dict(blocks=blocks, width=1.0, act_cfg=dict(type='HSwish'),
                            num_experts=4)),
    neck=dict(type='mmshallow.GhostNetClsNeck', in_channels=960, out_channels=1280,
              act_cfg=dict(type='HSwish'), dropout=0.2),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
# Tests evaluate the fused model; training ends with a deploy checkpoint (*_deploy.pth).
custom_hooks = [dict(type='mmshallow.ReparamHook')]
