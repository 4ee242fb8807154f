"""Convert a train-time checkpoint into a deploy checkpoint (re-parameterization branches fused).

    python tools/reparameterize.py CONFIG CHECKPOINT OUT [--shape H W] [--tolerance T]
        [--fold-batchnorms | --no-fold-batchnorms]

Builds the model of CONFIG (any mmdet / mmpretrain / mmseg / mmshallow model), loads CHECKPOINT,
fuses every re-parameterizable module (``mmshallow.reparameterize``) and, for mmseg segmentors,
folds the BNs of the decode / auxiliary heads' ConvModules into their convs (as ``ReparamHook``
does: ``fold_head_batchnorms``; ``--[no-]fold-batchnorms`` decides for any model), checks on a
random input that the fused and the unfused model agree, prints the error and writes OUT with
the fused ``state_dict`` (and the original ``meta``). Load OUT into the ``deploy=True`` variant
of the config (the ``*_deploy_*.py`` configs).
"""
import argparse
import copy
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import MODELS, init_default_scope
from mmengine.runner import load_checkpoint

import mmshallow
from mmshallow.engine.hooks.reparam_hook import fold_head_batchnorms
from mmshallow.utils import refuse_unsafe_checkpoint
from mmshallow.utils.checkpoint import save_weights_checkpoint
from mmshallow.utils.numerics import flatten_tensors, relative_error


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='train-time config of the model')
    parser.add_argument('checkpoint', help='train-time checkpoint')
    parser.add_argument('out', help='where to write the deploy checkpoint')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'),
                        help='random input size for the check (default 224 224)')
    parser.add_argument('--tolerance', type=float, default=1e-4,
                        help='largest relative error accepted (default 1e-4)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--fold-batchnorms', action=argparse.BooleanOptionalAction,
                        default=None,
                        help="fold the heads' ConvModule BNs too (default: for mmseg "
                        'segmentors only, whose deploy configs build heads with norm_cfg=None)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, as in tools/train.py')
    return parser.parse_args(argv)


def run_model(model, inputs):
    """The model's output on a batch tensor: ``mode='tensor'`` where the model supports it
    without data samples (classifiers, one-stage detectors), else its features."""
    with torch.no_grad():
        try:
            outputs = model(inputs, mode='tensor')
            if flatten_tensors(outputs):
                return outputs, 'model(inputs, mode="tensor")'
        except Exception:  # e.g. two-stage detectors need data samples in 'tensor' mode
            pass
        if hasattr(model, 'extract_feat'):
            return model.extract_feat(inputs), 'model.extract_feat(inputs)'
        return model(inputs), 'model(inputs)'


def reparameterize_checkpoint(config, checkpoint, out, shape=(224, 224), tolerance=1e-4,
                              device='cpu', cfg_options=None, fold_batchnorms=None):
    """Fuse ``checkpoint`` of ``config`` into ``out``; return the relative error measured."""
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmshallow'))
    model = MODELS.build(cfg.model).to(device)
    with refuse_unsafe_checkpoint(checkpoint):
        ckpt = load_checkpoint(model, checkpoint, map_location=device, strict=True)
    model.eval()

    fused = fold_head_batchnorms(mmshallow.reparameterize(copy.deepcopy(model)), fold_batchnorms)
    torch.manual_seed(0)
    inputs = torch.randn(1, 3, *shape, device=device)
    expected, how = run_model(model, inputs)
    actual, _ = run_model(fused, inputs)
    error = relative_error(actual, expected)
    max_abs = max(float((a - e).abs().max())
                  for a, e in zip(flatten_tensors(actual), flatten_tensors(expected)))
    print(f'fused vs unfused on a random {shape[0]}x{shape[1]} input ({how}): '
          f'max abs error {max_abs:.3e}, relative error {error:.3e}')
    if error > tolerance:
        raise RuntimeError(f'fused model differs from the train-time model: relative error '
                           f'{error:.3e} > tolerance {tolerance:.1e}; nothing written')

    save_weights_checkpoint(fused, out, ckpt.get('meta', {}), deploy=True)
    print(f'deploy checkpoint written to {out}')
    return error


def main(argv=None):
    args = parse_args(argv)
    try:
        reparameterize_checkpoint(args.config, args.checkpoint, args.out, tuple(args.shape),
                                  args.tolerance, args.device, args.cfg_options,
                                  args.fold_batchnorms)
    except RuntimeError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
