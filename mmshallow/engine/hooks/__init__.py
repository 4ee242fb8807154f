from .deep_training_hook import DeepTrainingHook
from .reparam_hook import ReparamHook

__all__ = ['DeepTrainingHook', 'ReparamHook']
