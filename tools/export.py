"""Export an mmshallow model (mmdet detector, mmpretrain classifier or mmseg segmentor) to ONNX
with mmdeploy, fused, and check the ONNX model in ONNX Runtime against the fused PyTorch model.

    python tools/export.py CONFIG CHECKPOINT DEPLOY_CFG [--img IMG] [--work-dir DIR]
                           [--shape H W] [--device cpu]

DEPLOY_CFG: one of configs/deploy/*.py (they list ``mmshallow.deploy`` in
``codebase_config.module``, which fuses the whole model and exports with TorchScript). Writes
``DIR/end2end.onnx`` and ``DIR/export.json`` (the parity checks of
:mod:`mmshallow.deploy.export`: no BatchNormalization, one Conv per conv of the fused model,
logits within 1e-4, the same detections, or for a segmentor logits within 1e-4 and >= 99.9 %
of the pixels with the same label), exits 1 if a check fails. The same as a Python API:
``mmshallow.deploy.export``.

Needs ``bash tools/install.sh --deploy``.
"""
import argparse
import json
import os.path as osp
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='model config (mmdet, mmpretrain or mmseg)')
    parser.add_argument('checkpoint', help='checkpoint (train-time or deploy)')
    parser.add_argument('deploy_cfg', help='deploy config, e.g. configs/deploy/*.py')
    parser.add_argument('--img', help='input image (default: a generated shapes image)')
    parser.add_argument('--work-dir', default='work_dirs/export', help='output folder')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="export input size (static deploy configs' input_shape)")
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--match-score', type=float, default=0.3,
                        help='detection parity: compare detections scoring at least this')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    for path in (args.config, args.checkpoint, args.deploy_cfg):
        if not osp.isfile(path):
            print(f'export: no such file: {path}', file=sys.stderr)
            return 2
    from mmshallow.deploy.export import export
    report = export(args.config, args.checkpoint, args.deploy_cfg, args.work_dir, args.img,
                    args.shape, args.device, args.match_score)
    print(json.dumps(report, indent=2))
    print(f'export: {"OK" if report["ok"] else "PARITY CHECK FAILED"}: {report["onnx"]}')
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
