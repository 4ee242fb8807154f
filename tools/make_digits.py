"""Export scikit-learn's bundled handwritten digits to mmpretrain's CustomDataset folders.

    python tools/make_digits.py [OUT_DIR] [--size 32] [--val-ratio 0.2] [--seed 0]

Writes OUT_DIR/{train,val}/<digit>/<index>.png (default OUT_DIR: data/digits): 1,797 real 8x8
scans upsampled to 32x32, a fixed seeded per-class 80/20 split. Needs scikit-learn
(`bash tools/install.sh --quickstart`); nothing is downloaded.
"""
import argparse

from mmshallow.data_generators import export_digits


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', nargs='?', default='data/digits',
                        help='dataset root (CustomDataset data_root)')
    parser.add_argument('--size', type=int, default=32, help='image side in pixels')
    parser.add_argument('--val-ratio', type=float, default=0.2)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    info = export_digits(args.out_dir, size=args.size, val_ratio=args.val_ratio, seed=args.seed)
    print(f"digits: {info['num_train']} train / {info['num_val']} val images "
          f"({args.size}x{args.size}) in {info['train_dir']} and {info['val_dir']}")
    return info


if __name__ == '__main__':
    main()
