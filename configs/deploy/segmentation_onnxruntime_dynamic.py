# mmseg segmentor -> ONNX Runtime, any batch size and image size (every side a multiple of the
# backbone's input divisor: 32 for ParNet), label map (batch, 1, H, W) out. Pyramid pooling
# (PSPHead's and UPerHead's adaptive average pools) exports with windows computed from the
# input size in the graph, so it stays exact at every size.
_base_ = ['./segmentation_onnxruntime_static.py']

onnx_config = dict(
    input_shape=None,
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        output={0: 'batch', 2: 'height', 3: 'width'}))
