"""scikit-learn's bundled handwritten digits as an mmpretrain ``CustomDataset`` folder tree.

``sklearn.datasets.load_digits`` ships 1,797 real 8x8 scans (16 gray levels, 10 classes) inside
the package, so this needs no download. :func:`export_digits` upsamples them to ``size`` x
``size`` gray PNGs and writes a fixed, seeded, per-class (stratified) 80/20 split::

    out_dir/train/0/0000.png ... out_dir/train/9/...
    out_dir/val/0/0003.png ...   out_dir/val/9/...

File names are the indices in ``load_digits()``, so a split is traceable to its source. Use it
with ``dict(type='CustomDataset', data_root=out_dir, data_prefix='train', with_label=True)``:
the class folders ``0`` ... ``9`` become labels 0 ... 9.
"""
import os
import os.path as osp
from typing import Dict

import numpy as np

DIGITS_CLASSES = tuple(str(i) for i in range(10))
_SPLITS = ('train', 'val')


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            'the digits quickstart needs scikit-learn (it ships the digit scans): '
            'bash tools/install.sh --quickstart, or pip install "mmshallow[quickstart]"') from e
    digits = load_digits()
    return digits.images, digits.target


def split_indices(labels: np.ndarray, val_ratio: float = 0.2, seed: int = 0) -> Dict[str, list]:
    """A seeded per-class split: ``round(val_ratio * n_c)`` of each class's ``n_c`` samples go
    to ``val``, the rest to ``train``; both lists sorted."""
    if not 0 < val_ratio < 1:
        raise ValueError(f'val_ratio must be in (0, 1), got {val_ratio!r}')
    rng = np.random.default_rng(seed)
    split = {name: [] for name in _SPLITS}
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        rng.shuffle(members)
        num_val = int(round(val_ratio * len(members)))
        split['val'] += members[:num_val].tolist()
        split['train'] += members[num_val:].tolist()
    return {name: sorted(idx) for name, idx in split.items()}


def export_digits(out_dir: str, size: int = 32, val_ratio: float = 0.2, seed: int = 0) -> dict:
    """Write the digits as ``out_dir/{train,val}/<label>/<index>.png`` (gray, ``size`` x
    ``size``, bilinear upsampling of the 0..16 scans scaled to 0..255).

    Returns a dict with ``num_train``, ``num_val``, ``classes`` and the two folders.
    Deterministic: the same arguments write the same files.
    """
    import cv2

    if int(size) != size or size < 8:
        raise ValueError(f'size must be an int >= 8 (the scans are 8x8), got {size!r}')
    images, labels = _load_digits()
    split = split_indices(labels, val_ratio, seed)
    for name, indices in split.items():
        for label in DIGITS_CLASSES:
            os.makedirs(osp.join(out_dir, name, label), exist_ok=True)
        for i in indices:
            gray = np.clip(images[i] * (255.0 / 16.0), 0, 255).astype(np.float32)
            big = cv2.resize(gray, (size, size), interpolation=cv2.INTER_LINEAR)
            path = osp.join(out_dir, name, str(labels[i]), f'{i:04d}.png')
            cv2.imwrite(path, np.clip(np.rint(big), 0, 255).astype(np.uint8))
    return dict(num_train=len(split['train']), num_val=len(split['val']),
                classes=DIGITS_CLASSES, train_dir=osp.join(out_dir, 'train'),
                val_dir=osp.join(out_dir, 'val'))
