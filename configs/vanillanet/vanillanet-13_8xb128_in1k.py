# VanillaNet-13 on ImageNet-1k. The official repository released training commands for
# VanillaNet-5 to -10 only; this uses the recipe of its deepest released model (VanillaNet-10:
# lr 3.5e-3, weight decay 0.25, mixup 0.4), with everything else as in vanillanet-5_8xb128_in1k.py
# (cutmix 1.0 with switch prob 0.5, label smoothing 0.1, 5 warm-up epochs: main.py's defaults).
_base_ = './vanillanet-5_8xb128_in1k.py'

model = dict(
    backbone=dict(arch='13'),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.4), dict(type='CutMix', alpha=1.0)]))
optim_wrapper = dict(optimizer=dict(lr=3.5e-3, weight_decay=0.25))
