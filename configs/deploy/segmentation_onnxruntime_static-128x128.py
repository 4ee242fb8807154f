# mmseg segmentor -> ONNX Runtime at 128x128 (the shapes segmentation quickstart), label map out.
_base_ = ['./segmentation_onnxruntime_static.py']

onnx_config = dict(input_shape=[128, 128])
