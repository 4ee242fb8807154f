"""Checks of a segmentation config that fail before the model and the datasets are built.

``tools/train.py`` and ``tools/test.py`` run them (through :func:`mmshallow.engine.cli.
build_runner`). Each error names the config key, its bad value and what is allowed, where
mmseg would fail later and vaguely: a ParNet crop size that is not a multiple of 32 fails in
the first forward, a missing data folder as a bare ``os.scandir`` error after the model is
built. Only segmentors (a model with a ``decode_head``) and segmentation datasets (a
``data_prefix`` with ``img_path`` / ``seg_map_path``) are checked; other configs pass as they are.
"""
import os.path as osp
from typing import Iterator, Optional, Sequence, Tuple

import torch

#: What each mmseg dataset expects under its ``data_root`` (mmseg's docs: "Prepare datasets").
SEG_LAYOUTS = {
    'ADE20KDataset': 'data_root = the unpacked ADEChallengeData2016/ folder, holding '
    'images/training and images/validation (.jpg) and annotations/training and '
    'annotations/validation (.png label maps)',
    'CityscapesDataset': 'data_root = the cityscapes/ folder, holding leftImg8bit/train and '
    'leftImg8bit/val (*_leftImg8bit.png) and gtFine/train and gtFine/val '
    "(*_gtFine_labelTrainIds.png, made by cityscapesscripts' createTrainIdLabelImgs)",
}
CUSTOM_SEG_LAYOUT = ('data_root holding img_dir/train and img_dir/val (images) and '
                     'ann_dir/train and ann_dir/val (label maps with the same file names), '
                     "with data_prefix=dict(img_path='img_dir/train', "
                     "seg_map_path='ann_dir/train')")
SPLITS = ('train', 'val', 'test')


def is_segmentor(model_cfg) -> bool:
    return isinstance(model_cfg, dict) and model_cfg.get('decode_head') is not None


def _datasets(dataset_cfg, key: str) -> Iterator[Tuple[str, dict]]:
    """The datasets of a dataloader's ``dataset`` config, through the wrappers (RepeatDataset,
    ConcatDataset, ...), each with its config key."""
    if not isinstance(dataset_cfg, dict):
        return
    if isinstance(dataset_cfg.get('dataset'), dict):
        yield from _datasets(dataset_cfg['dataset'], f'{key}.dataset')
    for i, inner in enumerate(dataset_cfg.get('datasets') or []):
        yield from _datasets(inner, f'{key}.datasets[{i}]')
    if 'data_prefix' in dataset_cfg or 'data_root' in dataset_cfg:
        yield key, dataset_cfg


def _is_remote(path: str) -> bool:
    return '://' in path


def check_segmentation_data_folders(cfg, splits: Sequence[str] = SPLITS) -> None:
    """Refuse a segmentation dataset whose ``data_root``, ``data_prefix.img_path``,
    ``data_prefix.seg_map_path`` or ``ann_file`` does not exist, for the dataloaders of
    ``splits`` that the config has.

    Raises:
        FileNotFoundError: naming the missing folder, its config key and the layout the
            dataset type expects.
    """
    default_scope = cfg.get('default_scope')
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not isinstance(loader, dict):
            continue
        for key, dataset in _datasets(loader.get('dataset'), f'{split}_dataloader.dataset'):
            prefix = dataset.get('data_prefix')
            prefix = prefix if isinstance(prefix, dict) else {}
            if 'seg_map_path' not in prefix and not (default_scope == 'mmseg'
                                                     and 'img_path' in prefix):
                continue  # not a segmentation dataset
            kind = str(dataset.get('type', 'BaseSegDataset')).split('.')[-1]
            layout = SEG_LAYOUTS.get(kind, CUSTOM_SEG_LAYOUT)
            root = dataset.get('data_root') or ''
            if root and not _is_remote(root) and not osp.isdir(root):
                raise FileNotFoundError(
                    f"{key}.data_root: folder '{root}' does not exist (cwd "
                    f"'{osp.abspath('.')}'). {kind} expects {layout}.")
            paths = [(f'data_prefix.{name}', prefix[name]) for name in
                     ('img_path', 'seg_map_path') if prefix.get(name)]
            if dataset.get('ann_file'):
                paths.append(('ann_file', dataset['ann_file']))
            for name, relative in paths:
                path = relative if osp.isabs(relative) or not root else osp.join(root, relative)
                exists = osp.exists if name == 'ann_file' else osp.isdir
                if not _is_remote(path) and not exists(path):
                    what = 'file' if name == 'ann_file' else 'folder'
                    raise FileNotFoundError(
                        f"{key}.{name}: {what} '{path}' does not exist (data_root='{root}', "
                        f"{name.split('.')[-1]}='{relative}'). {kind} expects {layout}.")


def _pair(size) -> Optional[Tuple[int, int]]:
    if isinstance(size, int) and not isinstance(size, bool):
        return size, size
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(
            isinstance(s, int) for s in size):
        return int(size[0]), int(size[1])
    return None


def _rounded(size: Tuple[int, int], divisor: int) -> str:
    return 'x'.join(str(max(s // divisor, 1) * divisor) for s in size)


class _BackboneProbe:
    """The config's backbone built on the meta device (no memory, no weights): its input
    divisor and fixed input size, and whether a given input size goes through it."""

    def __init__(self, model_cfg, default_scope: Optional[str]):
        import inspect

        from mmengine.registry import MODELS
        backbone_cfg = dict(model_cfg['backbone'])
        kind = backbone_cfg['type']
        self.module, self.divisor, self.input_size = None, 1, None
        with MODELS.switch_scope_and_registry(default_scope) as registry:
            cls = kind if isinstance(kind, type) else registry.get(kind)
            self.name = getattr(cls, '__name__', str(kind))
            # only ours: a host backbone may load weights when it is built (timm's pretrained)
            if cls is None or not cls.__module__.startswith('mmshallow.'):
                return
            if 'deploy' in inspect.signature(cls).parameters:
                # the fused structure has the same strides and runs on meta (VanillaNet's
                # deep-training activation reads its lambda with .item(), which meta cannot)
                backbone_cfg['deploy'] = True
            with torch.device('meta'):
                self.module = registry.build(backbone_cfg).eval()
        self.divisor = int(getattr(self.module, 'size_divisor', 1) or 1)
        self.input_size = getattr(self.module, 'input_size', None)

    def check(self, key: str, value, size: Tuple[int, int]) -> None:
        if self.module is None:
            return
        h, w = size
        if self.input_size is not None and tuple(size) != tuple(self.input_size):
            raise ValueError(
                f'{key}={value}: {self.name} takes only {self.input_size[0]}x'
                f'{self.input_size[1]} inputs, got {h}x{w}')
        if h % self.divisor or w % self.divisor:
            raise ValueError(
                f'{key}={value}: {self.name} needs input sides divisible by {self.divisor}, '
                f'got {h}x{w}; use e.g. {_rounded(size, self.divisor)}')
        try:
            with torch.no_grad():
                self.module(torch.empty(1, 3, h, w, device='meta'))
        except (RuntimeError, ValueError) as err:
            if 'meta' in str(err):
                return  # an op without a meta kernel: the first real forward will tell
            stride = self._total_stride()
            hint = (f'; inputs below its total stride {stride} leave no feature map: use at '
                    f'least {stride}x{stride}') if stride else ''
            raise ValueError(f'{key}={value}: {self.name} cannot take a {h}x{w} input '
                             f'({err}){hint}') from err

    def _total_stride(self) -> Optional[int]:
        side = 1024 * max(self.divisor, 1)
        try:
            with torch.no_grad():
                outs = self.module(torch.empty(1, 3, side, side, device='meta'))
        except (RuntimeError, ValueError):
            return None
        last = outs[-1] if isinstance(outs, (tuple, list)) else outs
        return side // int(last.shape[-1])


def _train_sizes(cfg, model_cfg) -> Iterator[Tuple[str, object, Tuple[int, int]]]:
    preprocessor = model_cfg.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    if _pair(preprocessor.get('size')):
        yield 'model.data_preprocessor.size', preprocessor['size'], _pair(preprocessor['size'])
    loader = cfg.get('train_dataloader') or {}
    for key, dataset in _datasets(loader.get('dataset'), 'train_dataloader.dataset'):
        for i, transform in enumerate(dataset.get('pipeline') or []):
            if isinstance(transform, dict) and str(transform.get('type', '')).endswith(
                    'RandomCrop') and _pair(transform.get('crop_size')):
                yield (f'{key}.pipeline[{i}].crop_size', transform['crop_size'],
                       _pair(transform['crop_size']))


def _fixed_resize(cfg, split: str) -> Optional[Tuple[str, object, Tuple[int, int]]]:
    """A ``Resize(scale=(w, h), keep_ratio=False)`` in the split's pipeline: every image
    reaches the model at that size."""
    loader = cfg.get(f'{split}_dataloader') or {}
    for key, dataset in _datasets(loader.get('dataset'), f'{split}_dataloader.dataset'):
        for i, transform in enumerate(dataset.get('pipeline') or []):
            if (isinstance(transform, dict) and transform.get('type') == 'Resize'
                    and transform.get('keep_ratio') is False and _pair(transform.get('scale'))):
                w, h = _pair(transform['scale'])  # mmcv's Resize scale is (w, h)
                return f'{key}.pipeline[{i}].scale', transform['scale'], (h, w)
    return None


def check_segmentation_input_sizes(cfg, splits: Sequence[str] = SPLITS) -> None:
    """Refuse a segmentor config whose images reach the backbone at a size it cannot take:
    the training size (``model.data_preprocessor.size``, the pipeline's ``RandomCrop``
    ``crop_size``), the padding divisor (``data_preprocessor.size_divisor`` and
    ``test_cfg.size_divisor`` must be multiples of the backbone's ``size_divisor``: ParNet 32),
    and for testing, whether test images are padded or cropped to such a size at all.

    Raises:
        ValueError: naming the config key, its value and the sizes the backbone takes.
    """
    model_cfg = cfg.get('model')
    if not is_segmentor(model_cfg) or not isinstance(model_cfg.get('backbone'), dict):
        return
    probe = _BackboneProbe(model_cfg, cfg.get('default_scope'))
    if probe.module is None:
        return
    divisor = probe.divisor
    preprocessor = model_cfg.get('data_preprocessor') or cfg.get('data_preprocessor') or {}

    def check_divisor(key, value):
        if isinstance(value, int) and value % divisor:
            raise ValueError(
                f'{key}={value}: {probe.name} needs input sides divisible by {divisor}, so '
                f'the padding divisor must be a multiple of {divisor}')

    if 'train' in splits and cfg.get('train_dataloader'):
        check_divisor('model.data_preprocessor.size_divisor', preprocessor.get('size_divisor'))
        for key, value, size in _train_sizes(cfg, model_cfg):
            probe.check(key, value, size)
    for split in ('val', 'test'):
        if split not in splits or not cfg.get(f'{split}_dataloader'):
            continue
        test_pad = preprocessor.get('test_cfg') or {}
        test_cfg = model_cfg.get('test_cfg') or {}
        if test_pad.get('size_divisor') is not None:
            check_divisor('model.data_preprocessor.test_cfg.size_divisor',
                          test_pad['size_divisor'])
        elif _pair(test_pad.get('size')):
            probe.check('model.data_preprocessor.test_cfg.size', test_pad['size'],
                        _pair(test_pad['size']))
        elif test_cfg.get('mode') == 'slide' and _pair(test_cfg.get('crop_size')):
            probe.check('model.test_cfg.crop_size', test_cfg['crop_size'],
                        _pair(test_cfg['crop_size']))
        elif _fixed_resize(cfg, split):
            probe.check(*_fixed_resize(cfg, split))
        elif divisor > 1:
            raise ValueError(
                f'{split}_dataloader: {probe.name} needs input sides divisible by {divisor}, '
                f"but {split} images reach it unpadded (model.test_cfg.mode="
                f"{test_cfg.get('mode', 'whole')!r}, no model.data_preprocessor.test_cfg): set "
                f'model.data_preprocessor.test_cfg=dict(size_divisor={divisor})')


def check_segmentation_config(cfg, splits: Sequence[str] = SPLITS) -> None:
    """:func:`check_segmentation_input_sizes`, then :func:`check_segmentation_data_folders`."""
    check_segmentation_input_sizes(cfg, splits)
    check_segmentation_data_folders(cfg, splits)
