# mmpretrain classifier -> ONNX Runtime, fixed 1x3x32x32 input (the digits quickstart), logits out.
_base_ = ['./classification_onnxruntime_static.py']

onnx_config = dict(input_shape=[32, 32])
