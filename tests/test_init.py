"""mmshallow's public API: what ``__all__`` promises exists, and tools/ use nothing private."""
import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import mmshallow

REPO = Path(__file__).resolve().parents[1]
# imported only with an optional extra installed (deploy: mmdeploy, onnx)
OPTIONAL = {'mmdeploy', 'onnx', 'onnxruntime', 'sklearn'}


def mmshallow_modules():
    names = ['mmshallow']
    for info in pkgutil.walk_packages(mmshallow.__path__, 'mmshallow.'):
        names.append(info.name)
    return names


@pytest.mark.parametrize('name', mmshallow_modules())
def test_every_name_in_all_resolves(name):
    try:
        module = importlib.import_module(name)
    except ImportError as err:
        missing = err
        while missing.name is None and isinstance(missing.__cause__, ImportError):
            missing = missing.__cause__  # mmshallow.deploy re-raises with the install hint
        if (missing.name or '').split('.')[0] in OPTIONAL:
            pytest.skip(f'{name} needs {missing.name}')
        raise
    exported = getattr(module, '__all__', [])
    assert len(set(exported)) == len(exported), f'{name}.__all__ lists a name twice'
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f'{name}.__all__ names what it lacks: {missing}'


def test_top_level_exports_what_tools_and_users_reach_for():
    from mmshallow.models.layers import NotFusableYetError, fold_batchnorms, unwrap_model
    from mmshallow.registry import MODEL_WRAPPERS, OPTIM_WRAPPERS
    assert {'reparameterize', 'fold_batchnorms', 'set_act_lambda', 'unwrap_model',
            'NotFusableYetError', 'optimize_for_inference', 'MODELS', 'HOOKS', 'MODEL_WRAPPERS',
            'OPTIM_WRAPPERS'} <= set(mmshallow.__all__)
    assert mmshallow.fold_batchnorms is fold_batchnorms
    assert mmshallow.NotFusableYetError is NotFusableYetError
    assert mmshallow.unwrap_model is unwrap_model
    assert mmshallow.MODEL_WRAPPERS is MODEL_WRAPPERS
    assert mmshallow.OPTIM_WRAPPERS is OPTIM_WRAPPERS


def test_layers_all_has_the_blocks_not_the_fusion_math():
    from mmshallow.models import layers
    assert {'RepVGGBlock', 'ConvBN', 'SELayer', 'reparameterize', 'ReparamModule'} <= set(
        layers.__all__)
    internal = {'fuse_conv_bn', 'pad_kernel', 'sum_branches', 'conv_from_branch',
                'merge_1x1_after_kxk', 'identity_kernel', 'reparameterize_children'}
    assert not internal & set(layers.__all__)


def private_imports(path: Path):
    """``(line, what)`` for every import of a private mmshallow module or name in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('mmshallow'):
            parts = node.module.split('.') + [alias.name for alias in node.names]
            private = [p for p in parts if p.startswith('_')]
            if private:
                yield node.lineno, f'from {node.module} import ... ({", ".join(private)})'
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith('mmshallow') and any(
                        p.startswith('_') for p in alias.name.split('.')):
                    yield node.lineno, f'import {alias.name}'


def test_tools_import_no_private_name_of_mmshallow():
    found = [f'{path.relative_to(REPO)}:{line}: {what}'
             for path in sorted((REPO / 'tools').rglob('*.py'))
             for line, what in private_imports(path)]
    assert not found, '\n'.join(found)


def test_the_private_import_check_sees_one(tmp_path):
    script = tmp_path / 'tool.py'
    script.write_text('from mmshallow.engine.hooks.reparam_hook import _ema_hooks\n'
                      'import mmshallow.models.layers._internal\n'
                      'from mmshallow.models import reparameterize\n')
    assert [line for line, _ in private_imports(script)] == [1, 2]
