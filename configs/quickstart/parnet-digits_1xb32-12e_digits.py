# ParNet on the 32x32 digits. The ImageNet archs (s..xl) run their streams at 56/28/14 pixels
# and are too heavy for a CPU quickstart at this size; 'parnet-digits' keeps the whole layout
# (depth 12, RepVGG-SSE streams of 4/5/5 blocks, downsampling and fusion blocks, SiLU) with
# narrower widths (64, 128, 256, 512) and one stride-2 stem block instead of two, so the three
# streams run at 16, 8 and 4 pixels and the last block at 2 (stride 16 in all).
_base_ = ['./_base_digits.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.ParNet',
                  arch=dict(channels=(64, 128, 256, 512), stem_strides=(2, 2)),
                  out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=512,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, )))
