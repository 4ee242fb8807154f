"""What mmshallow's hooks need of mmengine's ``EMAHook``."""
from typing import List

from mmengine.hooks import EMAHook


def ema_hooks(runner) -> List[EMAHook]:
    """The runner's ``EMAHook`` s (the YOLOX and RTMDet configs have one): their averaged copy
    of the model, ``hook.ema_model.module``, must be fused and annealed along with the model."""
    return [hook for hook in runner.hooks if isinstance(hook, EMAHook)]
