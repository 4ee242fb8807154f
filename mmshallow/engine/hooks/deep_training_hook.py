import math
from typing import Optional

from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

from mmshallow.models.layers import set_act_lambda, unwrap_model
from mmshallow.registry import HOOKS
from .ema import ema_hooks


@HOOKS.register_module()
class DeepTrainingHook(Hook):
    """VanillaNet's deep training (paper Sec. 3.1, official ``main.py``): anneal λ, the weight
    of the identity in ``A'(x) = (1 - λ) ReLU(x) + λ x``, from 0 to 1.

    At the start of each train epoch ``e`` (0-based ``runner.epoch``),
    ``λ = min(e / decay_epochs, 1)`` (``'linear'``, the official default) or
    ``0.5 (1 - cos(π min(e / decay_epochs, 1)))`` (``'cosine'``, official
    ``--decay_linear False``). With ``decay_iters`` λ follows the train iteration instead
    (``runner.iter / decay_iters``), updated before every iteration. An iteration-based loop
    (``IterBasedTrainLoop``, ``train_cfg=dict(by_epoch=False, ...)``) runs one long "epoch",
    so there ``decay_iters`` is required: without it ``before_train`` raises a ``ValueError``
    rather than leave λ at 0 for the whole run. λ is set with
    :func:`mmshallow.set_act_lambda` on the model and on the copy of every ``EMAHook`` (the
    official EMA copies ``act_learn`` too), and logged as ``act_lambda``. Validation uses the
    λ training is at; λ is a buffer, so checkpoints hold it and resuming restores it.

    Fuse (``ReparamHook``, ``tools/reparameterize.py``) only once λ reached 1: the blocks
    refuse before.

    Args:
        decay_epochs (int): Epochs over which λ goes from 0 to 1 (official 100 of 300).
            Defaults to 100.
        decay_iters (int, optional): Iterations over which λ goes from 0 to 1; given, λ is
            updated every iteration and ``decay_epochs`` is not used. Required with an
            iteration-based loop. Defaults to None.
        schedule (str): ``'linear'`` or ``'cosine'``. Defaults to ``'linear'``.
    """

    priority = 'NORMAL'
    schedules = ('linear', 'cosine')

    def __init__(self, decay_epochs: int = 100, decay_iters: Optional[int] = None,
                 schedule: str = 'linear'):
        for name, value in (('decay_epochs', decay_epochs), ('decay_iters', decay_iters)):
            if value is None and name == 'decay_iters':
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f'DeepTrainingHook {name} must be a positive int, got '
                                 f'{value!r}')
        if schedule not in self.schedules:
            raise ValueError(f'DeepTrainingHook schedule {schedule!r} not in: '
                             f'{", ".join(self.schedules)}')
        self.decay_epochs = decay_epochs
        self.decay_iters = decay_iters
        self.schedule = schedule

    def act_lambda(self, step: int, total: int) -> float:
        """λ after ``step`` of ``total`` epochs (or iterations)."""
        progress = min(step / total, 1.0)
        if self.schedule == 'cosine':
            return 0.5 * (1 - math.cos(math.pi * progress))
        return progress

    def _set(self, runner, lam: float) -> None:
        count = set_act_lambda(unwrap_model(runner.model), lam)
        if count == 0:
            raise RuntimeError(
                'DeepTrainingHook found no module with an act_lambda buffer in the model: it '
                'anneals train-time VanillaNet modules (VanillaNet, VanillaNetClassifier) and '
                'does nothing for other models or deploy=True builds; remove the hook')
        for hook in ema_hooks(runner):
            ema = getattr(hook, 'ema_model', None)
            if ema is not None:
                set_act_lambda(ema.module, lam)
        runner.message_hub.update_scalar('train/act_lambda', lam)

    def before_train(self, runner) -> None:
        loop = getattr(runner, 'train_loop', None)
        if self.decay_iters is None and isinstance(loop, IterBasedTrainLoop):
            raise ValueError(
                'DeepTrainingHook needs decay_iters with an iteration-based train loop '
                f'({type(loop).__name__}, max_iters={loop.max_iters}): decay_epochs='
                f'{self.decay_epochs} counts epochs, which this loop does not advance, so λ '
                'would stay 0; set decay_iters (the official 100 of 300 epochs is '
                'decay_iters=max_iters // 3)')

    def before_train_epoch(self, runner) -> None:
        if self.decay_iters is None:
            self._set(runner, self.act_lambda(runner.epoch, self.decay_epochs))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self.decay_iters is not None:
            self._set(runner, self.act_lambda(runner.iter, self.decay_iters))
