"""Latency and the machine's own throughput, measured the same way by every benchmark."""
import statistics
import time
from typing import Callable

import torch
import torch.nn as nn

CONV3X3_SHAPES = ((64, 112), (128, 56), (256, 56), (512, 28))  # (channels, side)


def latency_ms(fn: Callable, x, runs: int, warmup: int) -> float:
    """Median wall time of ``fn(x)`` over ``runs`` calls after ``warmup`` calls (ms)."""
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


@torch.no_grad()
def conv3x3_gflops(runs: int, warmup: int, batch: int = 8) -> float:
    """The machine's throughput on large 3x3 convs (GFLOP/s, multiply-accumulates): the best
    of a few VGG-like layer shapes at ``batch``."""
    best = 0.0
    for channels, side in CONV3X3_SHAPES:
        conv = nn.Conv2d(channels, channels, 3, padding=1).eval()
        x = torch.randn(batch, channels, side, side)
        ms = latency_ms(conv, x, runs, warmup)
        best = max(best, batch * channels * channels * 9 * side * side / (ms / 1e3) / 1e9)
    return best


def efficiency(flops: int, batch: int, latency: float, conv_gflops: float) -> float:
    """The fraction of the machine's best 3x3-conv throughput a model reaches:
    ``FLOPs x batch / latency / conv3x3 throughput``."""
    return flops * batch / (latency / 1e3) / 1e9 / conv_gflops


def cpu_isa() -> str:
    """The widest x86 SIMD / INT8 dot-product extension the CPU reports (/proc/cpuinfo): INT8
    speed-ups depend on it (VNNI runs uint8 x int8 dot products in one instruction)."""
    try:
        with open('/proc/cpuinfo') as f:
            flags = set(next((line for line in f if line.startswith('flags')), '').split())
    except OSError:
        return 'unknown'
    for flag, name in (('avx512_vnni', 'AVX512-VNNI'), ('avx_vnni', 'AVX-VNNI'),
                       ('avx512f', 'AVX-512'), ('avx2', 'AVX2')):
        if flag in flags:
            return name
    return 'no AVX2'
