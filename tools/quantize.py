"""INT8 for ONNX Runtime on the CPU: export an mmshallow model fused (fp32) and quantized
(INT8, calibrated on the config's own data), evaluate and time both.

    python tools/quantize.py CONFIG CHECKPOINT DEPLOY_CFG --work-dir DIR [--calib-num N]
                             [--calib-split {train,val,test}] [--method {minmax,entropy,percentile}]
                             [--keep-fp32 K] [--shape H W] [--full-range]
                             [--cfg-options KEY=VALUE ...]

Writes ``DIR/end2end.onnx`` (fp32), ``DIR/end2end_int8.onnx``, with ``--keep-fp32 K``
``DIR/end2end_int8_keep{K}.onnx`` (the K most sensitive layers left in float) and
``DIR/quantize.json`` (metric: top-1, COCO bbox mAP or mIoU; latency, speed-up, per-layer
sensitivity, what stays float and why), and prints a table. Nothing is written when a step
fails. The same as a Python API: ``mmshallow.deploy.quantize.quantize``. Needs
``bash tools/install.sh --deploy``.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='model config (mmpretrain classifier, mmdet detector '
                        'or mmseg segmentor)')
    parser.add_argument('checkpoint', help='checkpoint (train-time or deploy)')
    parser.add_argument('deploy_cfg', help='deploy config, e.g. configs/deploy/*.py')
    parser.add_argument('--work-dir', required=True, help='output folder')
    parser.add_argument('--calib-num', type=int, default=128,
                        help='calibration images drawn from the split (default: 128)')
    parser.add_argument('--calib-split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--method', default='minmax', choices=['minmax', 'entropy',
                                                               'percentile'],
                        help='calibration method (ONNX Runtime calibrators)')
    parser.add_argument('--keep-fp32', type=int, default=0, metavar='K',
                        help='also write a model with the K most sensitive layers in float')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="export input size (static deploy configs' input_shape)")
    parser.add_argument('--full-range', action='store_true',
                        help='8-bit weights instead of 7-bit (reduce_range; see '
                        'mmshallow.deploy.quantize.quantize_onnx for why 7 is the default)')
    parser.add_argument('--runs', type=int, default=50, help='timed runs per model')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the model config, key=value')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    for path in (args.config, args.checkpoint, args.deploy_cfg):
        if not osp.isfile(path):
            print(f'quantize: no such file: {path}', file=sys.stderr)
            return 2
    from mmshallow.deploy.quantize import markdown, quantize
    report = quantize(args.config, args.checkpoint, args.deploy_cfg, args.work_dir,
                      calib_num=args.calib_num, calib_split=args.calib_split,
                      cfg_options=args.cfg_options, keep_fp32=args.keep_fp32,
                      method=args.method, shape=args.shape, runs=args.runs, device=args.device,
                      reduce_range=not args.full_range)
    print(markdown(report))
    print(f'quantize: wrote {osp.join(args.work_dir, "quantize.json")} and '
          + ', '.join(row['onnx'] for row in report['models'].values()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
