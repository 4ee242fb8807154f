from .reparam_hook import ReparamHook

__all__ = ['ReparamHook']
