"""The CIFAR configs, run through mmpretrain's real CIFAR10 / CIFAR100 dataset classes on a tiny
set in the official python archives' layout that the tests write (no download)."""
import hashlib
import math
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

pytest.importorskip('mmpretrain')
import mmpretrain.datasets.cifar as mmpretrain_cifar  # noqa: E402
from mmpretrain.datasets import CIFAR10, CIFAR100  # noqa: E402
from mmpretrain.datasets.categories import CIFAR10_CATEGORIES, CIFAR100_CATEGORIES  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402

# config (under configs/) -> number of classes of its dataset
CONFIGS = {
    'parnet/parnet-cifar_8xb16-200e_cifar10': 10,
    'parnet/parnet-cifar_8xb16-200e_cifar100': 100,
    'repvgg/repvgg-a0-cifar_8xb16-200e_cifar10': 10,
    'vanillanet/vanillanet-5-cifar_8xb16-200e_cifar10': 10,
    'parameternet/parameternet-cifar_8xb16-200e_cifar10': 10,
    'mobilenext/mobilenext-1.0_8xb16-200e_cifar10': 10,
}
DATASET = {10: CIFAR10, 100: CIFAR100}


def load(repo_root, name):
    cfg = Config.fromfile(str(repo_root / 'configs' / f'{name}.py'))
    init_default_scope(cfg.default_scope)
    return cfg


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _dump(path, obj):
    path.write_bytes(pickle.dumps(obj, protocol=2))


def _rows(images):
    # the archives' layout: one uint8 row per image, the 1024 R, then G, then B values
    return images.transpose(0, 3, 1, 2).reshape(len(images), 3 * 32 * 32)


@pytest.fixture
def make_tiny_cifar(monkeypatch):
    """Write a few random 32x32 images per split as mmpretrain's CIFAR10 / CIFAR100 read them
    (``data_root/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}`` or
    ``data_root/cifar-100-python/{train,test,meta}``) and return ``(data_root, images)``, with
    ``images[split] = (HWC uint8 array, labels)``: ``make_tiny_cifar(path, num_classes)``.

    mmpretrain's classes check every file's MD5 against the official archives' before parsing
    (and download them when the check fails). The check stays on: only the class's table of
    expected MD5s is swapped (monkeypatch, undone after the test) for those of the files written
    here, so presence and checksums are verified and the real unpickling and reshaping run.
    Any download attempt fails the test.
    """

    def no_download(*args, **kwargs):
        raise AssertionError(f'mmpretrain tried to download CIFAR: {args}')

    monkeypatch.setattr(mmpretrain_cifar, 'download_and_extract_archive', no_download)

    def make(root, num_classes, per_split=dict(train=2, test=2)):
        rng = np.random.default_rng(num_classes)
        cls = DATASET[num_classes]
        folder = root / cls.base_folder
        folder.mkdir(parents=True)
        images = {}
        for split, n in per_split.items():
            # the first and the last class among them: labels span the whole head
            labels = [(num_classes - 1) * (i % 2) for i in range(n)]
            if split == 'test':
                labels = labels[::-1]
            images[split] = (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), labels)

        if num_classes == 10:
            train, labels = images['train']
            # the training set is spread over the five data_batch_* files, as in the archive
            for i, part in enumerate(np.array_split(np.arange(len(train)), 5), 1):
                _dump(folder / f'data_batch_{i}', {
                    'batch_label': f'training batch {i} of 5',
                    'labels': [labels[j] for j in part],
                    'data': _rows(train[part]),
                    'filenames': [f'train_{j}.png' for j in part]})
            test, labels = images['test']
            _dump(folder / 'test_batch', {
                'batch_label': 'testing batch 1 of 1', 'labels': labels, 'data': _rows(test),
                'filenames': [f'test_{j}.png' for j in range(len(test))]})
            _dump(folder / 'batches.meta', {
                'num_cases_per_batch': 10000, 'label_names': list(CIFAR10_CATEGORIES),
                'num_vis': 3072})
        else:
            for split, (array, labels) in images.items():
                _dump(folder / split, {
                    'filenames': [f'{split}_{j}.png' for j in range(len(array))],
                    'batch_label': f'{split}ing batch 1 of 1',
                    'fine_labels': labels, 'coarse_labels': [label // 5 for label in labels],
                    'data': _rows(array)})
            _dump(folder / 'meta', {
                'fine_label_names': list(CIFAR100_CATEGORIES),
                'coarse_label_names': [f'superclass_{i}' for i in range(20)]})

        for table in ('train_list', 'test_list'):
            monkeypatch.setattr(cls, table, [[name, _md5(folder / name)]
                                             for name, _ in getattr(cls, table)])
        monkeypatch.setattr(cls, 'meta', dict(cls.meta, md5=_md5(folder / cls.meta['filename'])))
        return root, images

    return make


@pytest.mark.parametrize('num_classes', [10, 100])
def test_tiny_cifar_is_read_back_by_mmpretrains_dataset_class(tmp_path, make_tiny_cifar,
                                                              monkeypatch, num_classes):
    root, images = make_tiny_cifar(tmp_path, num_classes)
    cls = DATASET[num_classes]
    for split, (array, labels) in images.items():
        dataset = cls(data_root=str(root), split=split, download=False)
        assert len(dataset) == len(array)
        assert len(dataset.metainfo['classes']) == num_classes
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            assert np.array_equal(info['img'], array[i]) and info['gt_label'] == labels[i]
        dataset._load_meta()  # the label-name file passes its MD5 check and unpickles

    # the integrity check is live: a checksum that does not match refuses the files
    broken = [[name, '0' * 32] for name, _ in cls.train_list]
    monkeypatch.setattr(cls, 'train_list', broken)
    with pytest.raises(RuntimeError, match=f'Cannot find {cls.__name__} dataset'):
        cls(data_root=str(root), split='train', download=False)


@pytest.mark.parametrize('name,num_classes', CONFIGS.items())
def test_cifar_config_builds_a_model_for_its_dataset(repo_root, name, num_classes):
    cfg = load(repo_root, name)
    dataset_type = DATASET[num_classes].__name__
    assert cfg.custom_imports.imports == ['mmshallow']
    assert 'mmshallow.ReparamHook' in [h.type for h in cfg.custom_hooks]
    assert cfg.data_preprocessor.num_classes == num_classes
    for split, loader in (('train', cfg.train_dataloader), ('test', cfg.val_dataloader),
                          ('test', cfg.test_dataloader)):
        assert loader.dataset.type == dataset_type and loader.dataset.split == split
        assert loader.dataset.data_root.rstrip('/') == f'data/cifar{num_classes}'
    assert [t.type for t in cfg.train_dataloader.dataset.pipeline] == [
        'RandomCrop', 'RandomFlip', 'PackInputs']
    assert cfg.train_dataloader.dataset.pipeline[0].padding == 4
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 128

    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 3, 32, 32), mode='tensor').shape == (2, num_classes)


@pytest.mark.parametrize('name,num_classes', CONFIGS.items())
def test_cifar_config_trains_two_iterations_and_validates_on_tiny_cifar(
        repo_root, tmp_path, make_tiny_cifar, shrink_classification_config, name, num_classes):
    root, _ = make_tiny_cifar(tmp_path / 'cifar', num_classes)
    cfg = shrink_classification_config(load(repo_root, name), root, tmp_path / 'wd')
    # two epochs of one batch of 2, then one validation pass: the second epoch shows the deep
    # training hook (VanillaNet) moving lambda with the config's own decay
    cfg.train_cfg.update(max_epochs=2, val_interval=2)
    for hook in cfg.custom_hooks:
        if hook.type == 'mmshallow.ReparamHook':
            hook.save_deploy_checkpoint = False  # no files: fusion is tested elsewhere
    runner = Runner.from_cfg(cfg)
    runner.train()

    dataset_class = DATASET[num_classes]
    assert type(runner.train_dataloader.dataset) is dataset_class
    assert type(runner.val_dataloader.dataset) is dataset_class
    assert runner.iter == 2
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    assert 'val/accuracy/top1' in runner.message_hub.log_scalars
    assert not list((tmp_path / 'wd').rglob('*.pth'))

    decay = [h.decay_epochs for h in cfg.custom_hooks if h.type == 'mmshallow.DeepTrainingHook']
    if 'vanillanet' in name:
        lambdas = {float(b) for key, b in runner.model.named_buffers()
                   if key.endswith('act_lambda')}
        assert decay == [67] and len(lambdas) == 1  # epoch 1 of the 67-epoch decay
        assert lambdas.pop() == pytest.approx(1 / 67)
        assert runner.message_hub.get_scalar('train/act_lambda').current() == pytest.approx(1 / 67)
    else:
        assert decay == []
