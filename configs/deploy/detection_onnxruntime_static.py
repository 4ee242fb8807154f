# mmdet detector -> ONNX Runtime at one fixed input size (height x width), here 640x640:
# tools/export.py --shape H W sets another.
_base_ = ['./_base_detection.py']

onnx_config = dict(input_shape=[640, 640])
