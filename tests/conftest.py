import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mmshallow.utils.dependencies import MMCV_OPS_MISSING, mmcv_has_ops

REPO = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``needs_mmcv_ops`` (mmdet's models, mmcv.ops) skip, with the reason,
    where mmcv has no compiled ops (CI's low-end leg runs mmcv-lite)."""
    if mmcv_has_ops():
        return
    skip = pytest.mark.skip(reason=MMCV_OPS_MISSING)
    for item in items:
        if item.get_closest_marker('needs_mmcv_ops'):
            item.add_marker(skip)


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope='session')
def load_tool():
    """Import a script under tools/ (not a package) as a module: load_tool('reparameterize')."""

    def load(relative: str):
        path = REPO / 'tools' / f'{relative}.py'
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope='session')
def make_tiny_imagenet():
    """Write a few random JPEGs in ImageNet's layout (data_root/{split}/..., meta/{split}.txt,
    labels among 1000 classes) and return data_root: make_tiny_imagenet(path)."""

    def make(root: Path, per_split=dict(train=4, val=2), classes=(0, 7)) -> Path:
        import cv2
        rng = np.random.default_rng(0)
        (root / 'meta').mkdir(parents=True)
        for split, n in per_split.items():
            lines = []
            for i in range(n):
                label = classes[i % len(classes)]
                rel = f'n{label:08d}/img_{i}.JPEG'
                path = root / split / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), rng.integers(0, 255, (40, 48, 3), dtype=np.uint8))
                lines.append(f'{rel} {label}')
            (root / 'meta' / f'{split}.txt').write_text('\n'.join(lines) + '\n')
        return root

    return make


@pytest.fixture
def tiny_coco(tmp_path, monkeypatch):
    """4 train / 2 val generated images of 3 classes in ``data/coco/`` (mmdet's COCO configs'
    data_root) under ``tmp_path``, which becomes the cwd; returns the class names."""
    from mmshallow.data_generators import SHAPES_CLASSES, generate_shapes_coco
    generate_shapes_coco(tmp_path / 'data' / 'coco', num_train=4, num_val=2, image_size=96)
    monkeypatch.chdir(tmp_path)
    return SHAPES_CLASSES


def _transforms(pipeline):
    for transform in pipeline or []:
        yield transform


def _no_checkpoints(cfg):
    """The full-size models' checkpoints (weights, optimizer state, EMA copy) run to gigabytes
    each; a config test needs none of them (saving and resuming are tested on small models)."""
    cfg.default_hooks.checkpoint.update(interval=-1, save_last=False)


@pytest.fixture(scope='session')
def shrink_detection_config():
    """Adapt a real mmdet config to the tiny generated data: classes, batch 2, no workers,
    every image size of the pipelines (and YOLOX's batch resize) -> ``size``, 1 epoch, no
    checkpoint files unless ``checkpoints`` (see ``_no_checkpoints``)."""

    def shrink(cfg, classes, work_dir, size=128, checkpoints=False):
        cfg.work_dir = str(work_dir)
        if not checkpoints:
            _no_checkpoints(cfg)
        head = cfg.model.get('bbox_head') or cfg.model.roi_head.bbox_head
        head.num_classes = len(classes)
        for augment in cfg.model.data_preprocessor.get('batch_augments') or []:
            if augment.get('type') == 'BatchSyncRandomResize':
                augment.random_size_range = (size, size)
        for split in ('train', 'val', 'test'):
            loader = cfg[f'{split}_dataloader']
            loader.update(batch_size=2, num_workers=0, persistent_workers=False)
            dataset = loader.dataset.get('dataset', loader.dataset)  # MultiImageMixDataset
            dataset.metainfo = dict(classes=classes)
            for pipeline in (loader.dataset.get('pipeline'), dataset.get('pipeline')):
                for transform in _transforms(pipeline):
                    for key in ('img_scale', 'scale'):
                        if key in transform:
                            transform[key] = (size, size)
                    if transform['type'] == 'RandomAffine':
                        transform['border'] = (-size // 2, -size // 2)
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
        return cfg

    return shrink


@pytest.fixture(scope='session')
def shrink_classification_config():
    """Adapt a real mmpretrain ImageNet config to a tiny ImageNet-layout folder: batch 2, no
    workers, 1 epoch, no checkpoint files unless ``checkpoints`` (see ``_no_checkpoints``)."""

    def shrink(cfg, data_root, work_dir, checkpoints=False):
        cfg.work_dir = str(work_dir)
        if not checkpoints:
            _no_checkpoints(cfg)
        for split in ('train', 'val', 'test'):
            loader = cfg[f'{split}_dataloader']
            loader.update(batch_size=2, num_workers=0, persistent_workers=False)
            loader.dataset.data_root = str(data_root)
        cfg.train_cfg.max_epochs = 1
        cfg.default_hooks.logger.interval = 1
        return cfg

    return shrink


@pytest.fixture(scope='session')
def digits_root(tmp_path_factory) -> Path:
    """scikit-learn's digits exported once per session (tools/make_digits.py's default layout);
    skips without scikit-learn (the quickstart extra)."""
    pytest.importorskip('sklearn')
    from mmshallow.data_generators import export_digits
    root = tmp_path_factory.mktemp('digits')
    export_digits(str(root))
    return root


def _random_detector(config: str, out: Path, calib_size: int, whole: bool, options=None):
    """``config``'s detector (mmdet scope) initialised, with BN statistics from four generated
    shapes images (``whole``: through the whole tensor-mode forward, else backbone and neck),
    so that activations have sane sizes through every layer. Needs mmcv's ops."""
    import cv2
    import torch
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope

    from mmshallow.data_generators import generate_shapes_coco
    from mmshallow.testing import calibrate_bn
    cfg = Config.fromfile(str(REPO / config))
    cfg.merge_from_dict(options or {})
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    info = generate_shapes_coco(str(out / 'calib'), num_train=4, num_val=0,
                                image_size=calib_size)
    images = [torch.from_numpy(cv2.imread(f'{info["train_img_dir"]}/{i:06d}.jpg')).permute(
        2, 0, 1).float() for i in range(1, 5)]
    if whole:
        return calibrate_bn(model, [torch.stack(images[:2]), torch.stack(images[2:])],
                            lambda m, x: m(x, mode='tensor'))
    batches = [model.data_preprocessor(dict(inputs=images[i:i + 2]), False)['inputs']
               for i in (0, 2)]
    return calibrate_bn(model, batches, lambda m, x: m.extract_feat(x))


def _save(model, path: Path) -> str:
    import torch
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(path))
    return str(path)


@pytest.fixture(scope='session')
def yolox_quickstart_checkpoint(tmp_path_factory) -> str:
    """The detection quickstart's YOLOX (ParNet-S + ParNet neck) with random weights that
    behave like trained ones: BN statistics from generated shapes images, a head whose scores
    spread over (0, 1) and whose boxes stay near their anchor points. Needs mmcv's ops."""
    import torch
    tmp = tmp_path_factory.mktemp('yolox')
    model = _random_detector('configs/quickstart/yolox_parnet-s_1xb8-20e_shapes.py', tmp, 256,
                             whole=True)
    head = model.bbox_head
    for conv in [*head.multi_level_conv_cls, *head.multi_level_conv_obj]:
        torch.nn.init.normal_(conv.weight, std=2e-3)
        torch.nn.init.zeros_(conv.bias)
    for conv in head.multi_level_conv_reg:
        torch.nn.init.normal_(conv.weight, std=1e-4)
        torch.nn.init.zeros_(conv.bias)
    return _save(model, tmp / 'yolox.pth')


@pytest.fixture(scope='session')
def faster_rcnn_checkpoint(tmp_path_factory) -> str:
    """configs/parnet_faster-rcnn_coco.py (ParNet-M, ParNet neck, RPN, RoI head) with random
    weights and BN statistics from generated shapes images. Needs mmcv's ops."""
    tmp = tmp_path_factory.mktemp('frcnn')
    return _save(_random_detector('configs/parnet_faster-rcnn_coco.py', tmp, 256, whole=False),
                 tmp / 'frcnn.pth')


FASTER_RCNN_SHAPES = {'model.roi_head.bbox_head.num_classes': 3}


@pytest.fixture(scope='session')
def faster_rcnn_shapes_checkpoint(tmp_path_factory) -> str:
    """The same with a 3-class RoI head (``FASTER_RCNN_SHAPES`` options), for evaluation on
    the generated shapes set."""
    tmp = tmp_path_factory.mktemp('frcnn3')
    return _save(_random_detector('configs/parnet_faster-rcnn_coco.py', tmp, 256, whole=False,
                                  options=FASTER_RCNN_SHAPES), tmp / 'frcnn3.pth')
