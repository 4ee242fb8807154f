# mmpretrain classifier -> ONNX Runtime, any batch size and image size (every side a multiple
# of the backbone's input divisor: 32 for ParNet).
_base_ = ['./_base_onnxruntime.py']

onnx_config = dict(
    output_names=['output'],
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        output={0: 'batch'}))
codebase_config = dict(type='mmpretrain', task='Classification', module=['mmshallow.deploy'])
