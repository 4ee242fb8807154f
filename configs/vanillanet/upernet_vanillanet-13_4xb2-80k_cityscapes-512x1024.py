# UPerNet (mmseg's model, Cityscapes in data/cityscapes, 19 classes, 80k iterations, batch 8 (4 GPUs
# x 2), SGD lr 0.01 poly) with a VanillaNet-13 (act_num=4) backbone at the official detection taps,
# stages 0, 1, 8, 10: strides 4/8/16/32, 512/1024/2048/4096 channels; the auxiliary FCNHead reads
# the third map (2048 channels), as mmseg's UPerNet does. Deep training (lambda 0->1) over the first
# third of the iterations, as the paper's 100 of 300 epochs; when fine-tuning an ImageNet checkpoint
# that finished deep training, drop the hook. No ImageNet weights are loaded (none can be downloaded
# here): set the backbone's init_cfg=dict(type='Pretrained', checkpoint=...) to fine-tune converted
# official weights.
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
]

custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True, type='mmshallow.VanillaNet', arch='13', act_num=4,
        out_indices=(0, 1, 8, 10)),
    decode_head=dict(in_channels=[512, 1024, 2048, 4096], num_classes=19),
    auxiliary_head=dict(in_channels=2048, num_classes=19))

custom_hooks = [
    dict(type='mmshallow.DeepTrainingHook', decay_iters=26666),
    dict(type='mmshallow.ReparamHook'),
]
