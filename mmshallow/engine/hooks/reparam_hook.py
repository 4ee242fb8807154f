import copy
import os.path as osp
from typing import List, Optional

import torch.nn as nn
from mmengine.hooks import Hook

from mmshallow.models.layers import (NotFusableYetError, ReparamModule, fold_bn, reparameterize,
                                     unwrap_model)
from mmshallow.registry import HOOKS
from mmshallow.utils.checkpoint import save_weights_checkpoint
from .ema import ema_hooks


def is_segmentor(model: nn.Module) -> bool:
    """An mmseg segmentor (``EncoderDecoder``, ``CascadeEncoderDecoder``): a model with a
    ``decode_head``."""
    return isinstance(getattr(unwrap_model(model), 'decode_head', None), nn.Module)


def head_modules(model: nn.Module) -> List[nn.Module]:
    """The heads of an OpenMMLab model: its direct children named ``*head``
    (``decode_head``, ``auxiliary_head``; ``bbox_head``, ``rpn_head``, ``roi_head``; ``head``).
    """
    return [child for name, child in unwrap_model(model).named_children()
            if name.endswith('head')]


def fold_head_batchnorms(model: nn.Module, fold_batchnorms: Optional[bool] = None
                         ) -> nn.Module:
    """Fold the conv + BN pairs of the heads' mmcv ``ConvModule`` s of ``model`` (eval mode)
    in place, each into one biased conv with ``ConvModule(norm_cfg=None)``'s keys: the layout
    of a deploy config whose heads have ``norm_cfg=None``. ``fold_batchnorms`` None folds for
    mmseg segmentors only (:func:`is_segmentor`), False does nothing. Return ``model``.

    BNs that no conv absorbs keep their keys, as the deploy build has them."""
    if fold_batchnorms is None:
        fold_batchnorms = is_segmentor(model)
    if fold_batchnorms:
        for head in head_modules(model):
            fold_bn.fold_batchnorms(head, standalone_to_affine=False)
    return model


def reparameterize_for_deploy(model: nn.Module, fold_batchnorms: Optional[bool] = None
                              ) -> nn.Module:
    """Fuse ``model`` in place into the layout its ``*_deploy`` config builds; return it:
    :func:`reparameterize` (every re-parameterizable module: backbone, neck), then
    :func:`fold_head_batchnorms`. The backbone's and neck's own BNs (ParNet's skip BNs, ...)
    stay, as in their deploy builds."""
    return fold_head_batchnorms(reparameterize(model.eval()), fold_batchnorms)


@HOOKS.register_module()
class ReparamHook(Hook):
    """Evaluate and save the re-parameterized (fused) model.

    - ``before_test_epoch``: fuses the model in place, so ``tools/test.py`` / ``mim test``
      evaluate the deploy structure. Never during training or in-training validation (fusion
      is irreversible and uses the BN running statistics).
    - With an ``EMAHook`` (YOLOX/RTMDet configs), the EMA copy is fused too, so EMA's parameter
      swap after the test still pairs equal structures. This hook runs after EMA's swap
      (priority ``LOW`` vs EMA's 49), so the fused model is exactly what the unfused test would
      evaluate: the EMA weights with the source BN statistics unless EMA updates buffers.
    - ``after_train``: writes the fused weights (the EMA weights when EMA is used, as in
      mmengine's checkpoints) as a deploy checkpoint next to the last checkpoint,
      ``<last>_deploy.pth`` (``deploy.pth`` in the work dir if none was saved). Load it into
      the ``deploy=True`` variant of the config. A model that cannot be fused yet (VanillaNet
      before deep training reached λ = 1) gets a warning instead; testing it still fails with
      the reason, since no fused model exists.
    - Segmentors (mmseg, a model with a ``decode_head``) are fused whole by default: besides
      the backbone and neck, the BNs of the decode and auxiliary heads' ``ConvModule`` s are
      folded into their convs (:func:`reparameterize_for_deploy`), both for testing and in the
      deploy checkpoint, which loads strictly into the segmentation ``*_deploy_*`` configs
      (heads with ``norm_cfg=None``). Detectors and classifiers keep their heads' BNs, as
      their deploy configs do (``fold_batchnorms=True`` folds them too).

    Args:
        save_deploy_checkpoint (bool): Write the deploy checkpoint after training.
            Defaults to True.
        fold_batchnorms (bool, optional): Fold the heads' conv + BN pairs after fusing.
            Defaults to None: for segmentors only.
    """

    priority = 'LOW'

    def __init__(self, save_deploy_checkpoint: bool = True,
                 fold_batchnorms: Optional[bool] = None):
        if fold_batchnorms not in (None, True, False):
            raise ValueError(f'ReparamHook fold_batchnorms must be None (segmentors only), '
                             f'True or False, got {fold_batchnorms!r}')
        self.save_deploy_checkpoint = save_deploy_checkpoint
        self.fold_batchnorms = fold_batchnorms

    def before_test_epoch(self, runner) -> None:
        model = unwrap_model(runner.model)
        for hook in ema_hooks(runner):
            ema = hook.ema_model
            if not ema.update_buffers:
                # The EMA copy's buffers are never used (EMA swaps parameters only); give it the
                # source statistics so that what EMA swaps back after the test is the source
                # model fused with its own statistics.
                for ema_buffer, buffer in zip(ema.module.buffers(), model.buffers()):
                    ema_buffer.data.copy_(buffer.data)
            reparameterize_for_deploy(ema.module, self.fold_batchnorms)
        # the test loop calls model.eval() only after this hook: fuse what it will evaluate
        reparameterize_for_deploy(model, self.fold_batchnorms)
        runner.logger.info('ReparamHook: testing the re-parameterized (deploy) model')

    def after_train(self, runner) -> None:
        if not self.save_deploy_checkpoint:
            return
        model = unwrap_model(runner.model)
        try:  # before copying a large model for nothing
            for module in model.modules():
                if isinstance(module, ReparamModule):
                    module.check_fusable()
        except NotFusableYetError as e:
            # e.g. VanillaNet stopped before deep training ended: keep the run green, say why.
            runner.logger.warning(f'ReparamHook: no deploy checkpoint written: {e}')
            return
        model = copy.deepcopy(model)
        for hook in ema_hooks(runner):
            # What mmengine's checkpoints hold as 'state_dict' when EMA is on: the averaged
            # parameters, with buffers that EMA either averaged or kept in sync with the source.
            model.load_state_dict(hook.ema_model.module.state_dict())
        reparameterize_for_deploy(model, self.fold_batchnorms)

        last = runner.message_hub.get_info('last_ckpt')
        if last:
            out = osp.splitext(last)[0] + '_deploy.pth'
        else:
            out = osp.join(runner.work_dir, 'deploy.pth')
        meta = dict(epoch=runner.epoch, iter=runner.iter)
        dataset = getattr(runner.train_dataloader, 'dataset', None)
        if getattr(dataset, 'metainfo', None) is not None:
            meta['dataset_meta'] = copy.deepcopy(dataset.metainfo)
        save_weights_checkpoint(model, out, meta, deploy=True)
        runner.logger.info(f'ReparamHook: deploy checkpoint saved to {out}')
