from .class_count_check_hook import ClassCountCheckHook
from .deep_training_hook import DeepTrainingHook
from .ema import ema_hooks
from .reparam_hook import ReparamHook

__all__ = ['ClassCountCheckHook', 'DeepTrainingHook', 'ReparamHook', 'ema_hooks']
