# QARepVGG-A0 on the 32x32 digits, trained exactly like repvgg-a0_1xb32-12e_digits.py (same
# data, schedule and head) so that the two compare under INT8 (tools/quantize.py,
# docs/quantization.md). Fuses to the same network as RepVGG-A0 (ReparamHook).
_base_ = ['./repvgg-a0_1xb32-12e_digits.py']

model = dict(backbone=dict(type='mmshallow.QARepVGG', arch='A0'))
