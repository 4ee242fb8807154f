from .class_count_check_hook import ClassCountCheckHook
from .deep_training_hook import DeepTrainingHook
from .reparam_hook import ReparamHook

__all__ = ['ClassCountCheckHook', 'DeepTrainingHook', 'ReparamHook']
