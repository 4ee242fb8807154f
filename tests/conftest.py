import importlib.util
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


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
