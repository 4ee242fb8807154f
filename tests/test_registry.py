"""The registry rules of mmshallow (README: "Registry rules").

Every check runs in a fresh interpreter: what is imported (and so registered) before the build
is part of the behaviour under test.
"""
import importlib.util
import subprocess
import sys
import textwrap

import pytest

mmseg_missing = pytest.mark.skipif(importlib.util.find_spec('mmseg') is None,
                                   reason='mmsegmentation is not installed '
                                   '(tools/install.sh --mmseg)')
# mmseg's models import mmcv.ops at import time: they need mmcv's compiled ops as well
needs_mmseg = [mmseg_missing, pytest.mark.needs_mmcv_ops]


def run_python(code: str, cwd=None) -> str:
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize('scope', [pytest.param('mmdet', marks=pytest.mark.needs_mmcv_ops),
                                   'mmpretrain', pytest.param('mmseg', marks=needs_mmseg)])
def test_scoped_name_builds_ours_from_any_scope_without_custom_imports(scope):
    out = run_python(f"""
        import sys
        from mmengine.registry import init_default_scope
        from {scope}.registry import MODELS
        import {scope}.models
        assert 'mmshallow' not in sys.modules
        init_default_scope('{scope}')
        model = MODELS.build(dict(type='mmshallow.RepVGG', arch='A0'))
        print(type(model).__module__)
    """)
    assert out == 'mmshallow.models.backbones.repvgg'


@pytest.mark.needs_mmcv_ops
def test_plain_names_from_mmdet_scope_after_custom_imports(tmp_path):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(textwrap.dedent("""
        custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)
        default_scope = 'mmdet'
        model = dict(type='RepVGG', arch='A0')
        hook = dict(type='ReparamHook')
    """))
    out = run_python(f"""
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmdet.registry import HOOKS, MODELS
        import mmdet.models
        cfg = Config.fromfile('{cfg}')
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
        hook = HOOKS.build(cfg.hook)
        print(type(model).__module__, type(hook).__module__)
    """)
    assert out == 'mmshallow.models.backbones.repvgg mmshallow.engine.hooks.reparam_hook'


@mmseg_missing
@pytest.mark.needs_mmcv_ops
def test_plain_names_from_mmseg_scope_after_custom_imports(tmp_path):
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(textwrap.dedent("""
        custom_imports = dict(imports=['mmshallow'], allow_failed_imports=False)
        default_scope = 'mmseg'
        model = dict(type='EncoderDecoder',
                     backbone=dict(type='ParNet', arch='s', out_indices=(1, 2, 3)),
                     decode_head=dict(type='FCNHead', in_channels=1280, channels=8, num_convs=1,
                                      num_classes=3))
        hooks = [dict(type='ReparamHook'), dict(type='ClassCountCheckHook')]
    """))
    out = run_python(f"""
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        from mmseg.registry import HOOKS, MODELS
        import mmseg.models
        cfg = Config.fromfile('{cfg}')
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
        hooks = [HOOKS.build(h) for h in cfg.hooks]
        print(type(model).__name__, type(model.backbone).__module__,
              *(type(h).__module__ for h in hooks))
    """)
    assert out == ('EncoderDecoder mmshallow.models.backbones.parnet '
                   'mmshallow.engine.hooks.reparam_hook '
                   'mmshallow.engine.hooks.class_count_check_hook')


@mmseg_missing
@pytest.mark.needs_mmcv_ops
def test_mmseg_defines_none_of_our_names_so_every_plain_name_builds_ours_there():
    """The host-wins rule has nothing to decide in mmseg's scope (mmseg 1.2.2 registers no
    model, hook or wrapper under a name of ours): every plain name gets mmshallow's module.
    Should a later mmseg add one, this test names it, and the host's would win, as in
    mmpretrain's scope (``mmshallow.X`` selects ours)."""
    out = run_python("""
        import mmshallow
        import mmshallow.registry as ours
        import mmseg.engine, mmseg.models
        import mmseg.registry as host
        from mmengine.registry import init_default_scope
        init_default_scope('mmseg')
        shared, wrong = [], []
        for kind in ('MODELS', 'HOOKS', 'MODEL_WRAPPERS', 'OPTIM_WRAPPERS'):
            mine, theirs = getattr(ours, kind), getattr(host, kind)
            shared += sorted(set(mine.module_dict) & set(theirs.module_dict))
            wrong += [n for n, m in mine.module_dict.items() if theirs.get(n) is not m]
        print(shared, wrong)
    """)
    assert out == '[] []'


def test_host_module_of_the_same_name_keeps_winning_in_mmpretrain_scope():
    out = run_python("""
        import mmshallow
        from mmengine.registry import init_default_scope
        from mmpretrain.registry import HOOKS, MODELS
        import mmpretrain.models
        init_default_scope('mmpretrain')
        host = MODELS.build(dict(type='RepVGG', arch='A0'))
        ours = MODELS.build(dict(type='mmshallow.RepVGG', arch='A0'))
        block = MODELS.build(dict(type='RepVGGBlock', in_channels=4, out_channels=4))
        hook = HOOKS.build(dict(type='ReparamHook'))
        print(type(host).__module__, type(ours).__module__, type(block).__module__,
              type(hook).__name__)
    """)
    assert out == ('mmpretrain.models.backbones.repvgg mmshallow.models.backbones.repvgg '
                   'mmshallow.models.layers.repvgg_block ReparamHook')


def test_mmshallow_scope_and_root_registry():
    out = run_python("""
        import mmshallow
        from mmengine.registry import MODELS as ROOT, HOOKS as ROOT_HOOKS
        from mmshallow.registry import MODELS, HOOKS
        assert MODELS.parent is ROOT and HOOKS.parent is ROOT_HOOKS
        assert MODELS.scope == HOOKS.scope == 'mmshallow'
        assert ROOT.get('RepVGG') is MODELS.get('RepVGG')
        assert ROOT_HOOKS.get('mmshallow.ReparamHook') is HOOKS.get('ReparamHook')
        # never shadows a module the root already has under that name
        import torch.nn as nn
        class BN(nn.Module):
            pass
        MODELS.register_module(module=BN)
        assert ROOT.get('BN') is nn.BatchNorm2d and MODELS.get('mmshallow.BN') is BN
        print('ok')
    """)
    assert out == 'ok'


def test_import_mmshallow_imports_neither_mmdet_mmpretrain_nor_mmcv_ops():
    out = run_python("""
        import sys
        import torch
        export = torch.onnx.export
        import mmshallow
        print(sorted(m for m in sys.modules
                     if m.split('.')[0] in ('mmdet', 'mmpretrain', 'mmdeploy')
                     or m.startswith('mmcv.ops') or m == 'mmcv._ext'),
              torch.onnx.export is export)  # no global patch: mmshallow.deploy is opt-in
    """)
    assert out == '[] True'
