# mmpretrain classifier -> ONNX Runtime, fixed 1x3x224x224 input, logits out.
_base_ = ['./_base_onnxruntime.py']

onnx_config = dict(output_names=['output'], input_shape=[224, 224])
codebase_config = dict(type='mmpretrain', task='Classification', module=['mmshallow.deploy'])
