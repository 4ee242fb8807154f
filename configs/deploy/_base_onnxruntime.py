# What every mmshallow deploy config shares: ONNX through mmdeploy's TorchScript path, run by
# ONNX Runtime on the CPU. `mmshallow.deploy` (imported by mmdeploy from codebase_config.module)
# fuses the whole model before export and keeps torch.onnx.export on the TorchScript exporter.
# opset 16: the first whose RoiAlign has half_pixel (two-stage detectors need no custom op).
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=16,
    save_file='end2end.onnx',
    input_names=['input'],
    input_shape=None,
    optimize=False)
backend_config = dict(type='onnxruntime')
