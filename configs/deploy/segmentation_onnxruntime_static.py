# mmseg segmentor -> ONNX Runtime at one fixed input size (height x width), here 512x512 (as
# mmdeploy's segmentation_onnxruntime_static-512x512): tools/export.py --shape H W sets another.
# with_argmax: the graph ends in ArgMax, its output is the label map (batch, 1, H, W) at the
# input size; the logits before it (batch, classes, H, W: the decode head's, resized to the
# input by the head's predict) are what tools/export.py checks against PyTorch.
_base_ = ['./_base_onnxruntime.py']

onnx_config = dict(output_names=['output'], input_shape=[512, 512])
codebase_config = dict(type='mmseg', task='Segmentation', with_argmax=True,
                       module=['mmshallow.deploy'])
