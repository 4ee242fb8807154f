from typing import Dict, Optional

import torch.nn as nn
from mmengine.hooks import Hook

from mmshallow.models.layers import unwrap_model
from mmshallow.registry import HOOKS


def _num_classes(module) -> Optional[int]:
    value = getattr(module, 'num_classes', None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def declared_num_classes(model) -> Dict[str, int]:
    """Where a model states its class count: ``{'head.num_classes': 10, ...}``.

    A classifier: the head, the neck (VanillaNet's classifier, in the neck slot, gives the
    logits) and the data preprocessor (which one-hot encodes labels for Mixup/CutMix). A
    segmentor (mmseg's EncoderDecoder, CascadeEncoderDecoder): the decode head and the
    auxiliary head, each a head or a list of heads (``decode_head[1].num_classes``)."""
    found = {}
    for part in ('head', 'neck', 'data_preprocessor', 'decode_head', 'auxiliary_head'):
        module = getattr(model, part, None)
        heads = list(enumerate(module)) if isinstance(module, nn.ModuleList) else [(None, module)]
        for i, head in heads:
            value = _num_classes(head)
            if value is not None:
                found[f'{part}{"" if i is None else f"[{i}]"}.num_classes'] = value
    return found


def _dataset_location(dataset) -> str:
    prefix = getattr(dataset, 'data_prefix', None)
    image_dir = prefix.get('img_path') if isinstance(prefix, dict) else None
    return (getattr(dataset, 'img_prefix', None) or image_dir
            or getattr(dataset, 'data_root', None) or '')


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Stop with a clear error when a dataset's class count does not match the model.

    Before training, validation and testing, compares ``len(dataset.metainfo['classes'])``
    (for a folder dataset: its class folders) with every ``num_classes`` the model declares:
    a classifier's head, VanillaNet's classifier in the neck slot and the data preprocessor;
    a segmentor's ``decode_head`` and ``auxiliary_head`` (a head or a list of heads). Without
    it, a mismatch shows up as ``IndexError: Target 11 is out of bounds`` mid-epoch, a CUDA
    assert in a segmentation loss (more classes than the head) or as a silently wrong metric
    (fewer). Datasets without ``classes`` meta are not checked.

    Enable it in a config (mmpretrain, mmdet or mmseg scope) with
    ``custom_hooks = [dict(type='mmshallow.ClassCountCheckHook')]``.
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
            where = _dataset_location(dataset)
            shown = ', '.join(map(str, classes[:12])) + (', ...' if len(classes) > 12 else '')
            if any(k.startswith(('decode_head', 'auxiliary_head')) for k in wrong):
                fix = (f'set num_classes={len(classes)} in the model config (decode_head, and '
                       'auxiliary_head when it has one), or fix the dataset\'s metainfo '
                       'classes')
            else:
                fix = (f'set num_classes={len(classes)} in the model config (head, and '
                       'data_preprocessor when it has one), or fix the dataset\'s class folders')
            raise ValueError(
                f'the {split} dataset ({type(dataset).__name__}{" at " + where if where else ""}'
                f') has {len(classes)} classes ({shown}) but the model has '
                + ', '.join(f'{k}={v}' for k, v in wrong.items()) + f': {fix}')
