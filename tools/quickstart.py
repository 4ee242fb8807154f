"""The detection quickstart: generate the synthetic shapes set, train a YOLOX detector with a
ParNet-S backbone on it (CPU, about 10 minutes on 2 cores), then test the fused (deploy) model.

    python tools/quickstart.py [--work-dir work_dirs/quickstart] [--data-root data/shapes]

Prints mmengine's progress log, then the bbox mAP of the train-time model (last validation,
EMA weights) and of the re-parameterized model (test run with ReparamHook), the wall time, and
where the logs, the checkpoint and the deploy checkpoint are.
"""
import argparse
import json
import os.path as osp
import time

from mmengine.config import Config
from mmengine.runner import Runner

from mmshallow.datasets import generate_shapes_coco

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'quickstart', 'yolox_parnet-s_1xb8-20e_shapes.py')


def _with_data_root(cfg: Config, data_root: str) -> Config:
    data_root = data_root.rstrip('/') + '/'
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = data_root
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'].ann_file = data_root + 'annotations/instances_val2017.json'
    return cfg


def run(work_dir: str, data_root: str, config: str = CONFIG, cfg_options=None) -> dict:
    if not osp.exists(osp.join(data_root, 'annotations', 'instances_val2017.json')):
        info = generate_shapes_coco(data_root)
        print(f'quickstart: generated {info["num_train"]} train / {info["num_val"]} val images '
              f'in {data_root}')
    start = time.time()
    cfg = _with_data_root(Config.fromfile(config), data_root)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    runner = Runner.from_cfg(cfg)
    runner.train()
    train_map = runner.message_hub.get_scalar('val/coco/bbox_mAP').current()
    train_minutes = (time.time() - start) / 60
    checkpoint = runner.message_hub.get_info('last_ckpt')

    # A fresh test run, as tools/test.py does: ReparamHook fuses the model (and the EMA copy)
    # before testing.
    test_cfg = _with_data_root(Config.fromfile(config), data_root)
    if cfg_options:
        test_cfg.merge_from_dict(cfg_options)
    test_cfg.work_dir = osp.join(work_dir, 'test_fused')
    test_cfg.load_from = checkpoint
    tester = Runner.from_cfg(test_cfg)
    fused_map = tester.test()['coco/bbox_mAP']

    results = dict(
        bbox_mAP_train_time=float(train_map), bbox_mAP_fused=float(fused_map),
        train_minutes=round(train_minutes, 2),
        total_minutes=round((time.time() - start) / 60, 2), checkpoint=checkpoint,
        deploy_checkpoint=osp.splitext(checkpoint)[0] + '_deploy.pth',
        logs=runner.log_dir, test_logs=tester.log_dir)
    with open(osp.join(work_dir, 'quickstart_results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print(f'\nquickstart: bbox mAP {train_map:.3f} (train-time model, last validation), '
          f'{fused_map:.3f} (fused model, test); training took {train_minutes:.1f} min')
    print(f'quickstart: logs in {runner.log_dir}, checkpoint {checkpoint}, deploy checkpoint '
          f'{results["deploy_checkpoint"]} (load it with deploy=True), summary in '
          f'{osp.join(work_dir, "quickstart_results.json")}')
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument('--data-root', default='data/shapes')
    parser.add_argument('--config', default=CONFIG)
    args = parser.parse_args(argv)
    return run(args.work_dir, args.data_root, args.config)


if __name__ == '__main__':
    main()
