"""Generate the synthetic shapes detection dataset (COCO 2017 layout) for the quickstart.

    python tools/make_shapes_coco.py OUT_DIR [--train N] [--val N] [--size S] [--seed K]
        [--max-objects M]

Then point mmdet's COCO configs at it with ``data_root=OUT_DIR`` and
``metainfo=dict(classes=('circle', 'square', 'triangle'))``.
"""
import argparse

from mmshallow.data_generators import generate_shapes_coco


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out_dir', help='dataset root (mmdet data_root)')
    parser.add_argument('--train', type=int, default=300, help='number of training images')
    parser.add_argument('--val', type=int, default=60, help='number of validation images')
    parser.add_argument('--size', type=int, default=256, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-objects', type=int, default=4, help='objects per image: 1..M')
    args = parser.parse_args(argv)
    info = generate_shapes_coco(args.out_dir, num_train=args.train, num_val=args.val,
                                image_size=args.size, seed=args.seed,
                                max_objects=args.max_objects)
    print(f"shapes: train {info['num_train']} images / {info['num_train_objects']} objects, "
          f"val {info['num_val']} images / {info['num_val_objects']} objects; "
          f"{info['train_ann_file']}, {info['val_ann_file']}")
    return info


if __name__ == '__main__':
    main()
