"""mmshallow's registries.

Every registry is a child of mmengine's root registry of the same kind with scope ``mmshallow``
and lazy ``locations``, so ``type='mmshallow.X'`` resolves from any default scope (mmdet,
mmpretrain, mmseg, ...) even before ``custom_imports`` has run: mmengine imports
``mmshallow.registry`` on seeing the ``mmshallow.`` prefix.

A module registered here is also published under its plain name in the root registry, which
every codebase's registry falls back to. So after ``custom_imports=dict(imports=['mmshallow'])``
a plain ``type='ParNet'`` works from the mmdet, mmpretrain and mmseg scopes, while a name that
the host codebase defines itself (mmpretrain's ``RepVGG``; mmseg 1.2.2 defines none of ours)
keeps resolving to the host's class: a registry searches itself before its parents.
``mmshallow.RepVGG`` always selects ours.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import Registry


class PluginRegistry(Registry):
    """A child registry that also publishes its modules under their plain names in its parent.

    The plain name is skipped (the scoped name still works) when the parent already holds a
    different object under it, so mmshallow never shadows a module of mmengine or mmcv.
    """

    def _register_module(self, module, module_name=None, force=False):
        super()._register_module(module, module_name, force)
        names = [module.__name__] if module_name is None else module_name
        names = [names] if isinstance(names, str) else names
        for name in names:
            if self.parent._module_dict.get(name, module) is module:
                self.parent._module_dict[name] = module


MODELS = PluginRegistry(
    'model', parent=MMENGINE_MODELS, scope='mmshallow', locations=['mmshallow.models'])
HOOKS = PluginRegistry(
    'hook', parent=MMENGINE_HOOKS, scope='mmshallow', locations=['mmshallow.engine.hooks'])
MODEL_WRAPPERS = PluginRegistry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope='mmshallow',
    locations=['mmshallow.engine.model_wrappers'])
OPTIM_WRAPPERS = PluginRegistry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='mmshallow',
    locations=['mmshallow.engine.optim_wrappers'])
