import cv2
import numpy as np
import pytest

from mmshallow.data_generators import DIGITS_CLASSES, export_digits, split_indices


def _tree(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob('*.png'))}


def test_export_layout_split_and_images(digits_root):
    sklearn_datasets = pytest.importorskip('sklearn.datasets')
    digits = sklearn_datasets.load_digits()
    files = _tree(digits_root)
    assert len(files) == len(digits.target) == 1797
    per_split = {s: [p for p in files if p.parts[0] == s] for s in ('train', 'val')}
    assert len(per_split['val']) == 359 and len(per_split['train']) == 1438
    assert sorted({p.parts[1] for p in files}) == list(DIGITS_CLASSES)
    for split, paths in per_split.items():
        counts = np.bincount([int(p.parts[1]) for p in paths], minlength=10)
        class_sizes = np.bincount(digits.target)
        share = 0.2 if split == 'val' else 0.8
        # stratified: each class splits 80/20 to within one image
        assert np.all(np.abs(counts - share * class_sizes) <= 1), (split, counts)
    # no scan in both splits; each file's label is the scan's label
    names = [p.name for p in files]
    assert len(set(names)) == len(names)
    path = digits_root / 'val' / per_split['val'][0].parts[1] / per_split['val'][0].name
    index = int(path.stem)
    assert digits.target[index] == int(path.parent.name)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image.shape == (32, 32) and image.dtype == np.uint8
    # the upsampled image is the scan: back at 8x8 it matches the 0..16 levels scaled to 255
    small = cv2.resize(image.astype(np.float32), (8, 8), interpolation=cv2.INTER_AREA)
    assert np.corrcoef(small.ravel(), digits.images[index].ravel())[0, 1] > 0.95


def test_export_is_deterministic_and_the_seed_changes_the_split(digits_root, tmp_path):
    pytest.importorskip('sklearn')
    export_digits(str(tmp_path / 'again'))
    assert _tree(tmp_path / 'again') == _tree(digits_root)
    labels = np.repeat(np.arange(10), 20)
    assert split_indices(labels, seed=0) == split_indices(labels, seed=0)
    assert split_indices(labels, seed=0)['val'] != split_indices(labels, seed=1)['val']


def test_bad_arguments(tmp_path):
    labels = np.repeat(np.arange(3), 5)
    for bad in (0, 1, 1.5):
        with pytest.raises(ValueError, match=rf'val_ratio must be in \(0, 1\), got {bad}'):
            split_indices(labels, val_ratio=bad)
    pytest.importorskip('sklearn')
    with pytest.raises(ValueError, match=r'size must be an int >= 8 \(the scans are 8x8\), '
                                         'got 4'):
        export_digits(str(tmp_path), size=4)


def test_missing_scikit_learn_says_how_to_install(monkeypatch, tmp_path):
    import builtins
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith('sklearn'):
            raise ImportError(f'No module named {name!r}')
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, '__import__', no_sklearn)
    with pytest.raises(ImportError, match=r'needs scikit-learn .* tools/install.sh --quickstart'):
        export_digits(str(tmp_path))
