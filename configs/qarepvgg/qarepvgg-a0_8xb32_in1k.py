# QARepVGG-A0 on ImageNet-1k (Chu et al. 2024, "Make RepVGG Greater Again"): RepVGG-A0's recipe
# (../repvgg/repvgg-a0_8xb32_in1k.py: 120 epochs, SGD lr 0.1 for a global batch of 256, cosine,
# plain weight decay 1e-4 on conv and FC weights, none on biases or BN) with the
# quantization-aware blocks. The paper drops RepVGG's custom L2 regularizer, which mmshallow's
# RepVGG configs do not use either. Fuses to the same network as RepVGG-A0 (ReparamHook).
_base_ = '../repvgg/repvgg-a0_8xb32_in1k.py'

model = dict(backbone=dict(type='mmshallow.QARepVGG', arch='A0'))
