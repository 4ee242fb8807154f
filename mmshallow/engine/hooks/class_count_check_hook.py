from typing import Dict

from mmengine.hooks import Hook

from mmshallow.models.layers import unwrap_model
from mmshallow.registry import HOOKS


def declared_num_classes(model) -> Dict[str, int]:
    """Where a classifier states its class count: ``{'head.num_classes': 10, ...}``, from the
    head, the neck (VanillaNet's classifier, in the neck slot, gives the logits) and the data
    preprocessor (which one-hot encodes labels for Mixup/CutMix)."""
    found = {}
    for part in ('head', 'neck', 'data_preprocessor'):
        value = getattr(getattr(model, part, None), 'num_classes', None)
        if isinstance(value, int) and not isinstance(value, bool):
            found[f'{part}.num_classes'] = value
    return found


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Stop with a clear error when a dataset's class count does not match the model.

    Before training, validation and testing, compares ``len(dataset.metainfo['classes'])``
    (for a folder dataset: its class folders) with every ``num_classes`` the classifier
    declares (head, VanillaNet's classifier in the neck slot, data preprocessor). Without it,
    a mismatch shows up as ``IndexError: Target 11 is out of bounds`` mid-epoch (more classes
    than the head) or as a silently wrong metric (fewer). Datasets without ``classes`` meta
    are not checked.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner, 'train', runner.train_dataloader)

    def before_val(self, runner) -> None:
        self._check(runner, 'val', runner.val_dataloader)

    def before_test(self, runner) -> None:
        self._check(runner, 'test', runner.test_dataloader)

    @staticmethod
    def _check(runner, split: str, dataloader) -> None:
        dataset = getattr(dataloader, 'dataset', None)
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        if not classes:
            return
        declared = declared_num_classes(unwrap_model(runner.model))
        wrong = {k: v for k, v in declared.items() if v != len(classes)}
        if wrong:
            where = getattr(dataset, 'img_prefix', None) or getattr(dataset, 'data_root', '')
            shown = ', '.join(map(str, classes[:12])) + (', ...' if len(classes) > 12 else '')
            raise ValueError(
                f'the {split} dataset ({type(dataset).__name__}{" at " + where if where else ""}'
                f') has {len(classes)} classes ({shown}) but the model has '
                + ', '.join(f'{k}={v}' for k, v in wrong.items())
                + f': set num_classes={len(classes)} in the model config (head, and '
                'data_preprocessor when it has one), or fix the dataset\'s class folders')
