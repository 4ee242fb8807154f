# mmdet detector -> ONNX Runtime at 160x160 (the shapes detection quickstart), NMS in the graph.
_base_ = ['./detection_onnxruntime_static.py']

onnx_config = dict(input_shape=[160, 160])
