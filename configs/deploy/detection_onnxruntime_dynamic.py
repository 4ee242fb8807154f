# mmdet detector -> ONNX Runtime, any batch size and image size (every side a multiple of the
# backbone's input divisor: 32 for ParNet; mmdet's data_preprocessor pads test images so).
_base_ = ['./_base_detection.py']

onnx_config = dict(
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        dets={0: 'batch', 1: 'num_dets'},
        labels={0: 'batch', 1: 'num_dets'}))
