# ParNet on the 32x32 digits. The ImageNet archs (s..xl, 92-200 channels in stream 1, 1280-3200
# at the end) are heavy for a CPU quickstart; this one keeps the whole layout and its strides
# (depth 12, RepVGG-SSE streams of 4/5/5 blocks, downsampling and fusion blocks, SiLU, two
# stride-2 stem blocks) with narrower widths (64, 128, 256, 512): at 32x32 the three streams
# run at 8, 4 and 2 pixels and the last block at 1.
_base_ = ['./_base_digits.py']

model = dict(
    type='ImageClassifier',
    backbone=dict(type='mmshallow.ParNet',
                  arch=dict(channels=(64, 128, 256, 512)),
                  out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=512,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, )))
