"""Measurement, as every mmshallow table reports it: complexity (train-time / deploy
parameters, FLOPs, depth: :mod:`.complexity`), latency and machine throughput (:mod:`.speed`),
ONNX Runtime sessions without mmdeploy (:mod:`.ort`), and the benchmark and model-zoo tables
built from them (:mod:`.benchmark`, :mod:`.model_zoo`, imported on use: they need the
OpenMMLab codebases)."""
from .complexity import complexity, count_flops, count_params, deploy_model, depth
from .speed import conv3x3_gflops, cpu_isa, efficiency, latency_ms

__all__ = ['complexity', 'count_flops', 'count_params', 'deploy_model', 'depth',
           'conv3x3_gflops', 'cpu_isa', 'efficiency', 'latency_ms']
