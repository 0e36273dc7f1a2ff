"""PointHMR estimator: an mmpose top-down estimator (HRNet backbone, point-guided sampler neck, transformer head)."""
from typing import Any, Dict, Optional

from mmengine.logging import print_log
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig

from ..official_checkpoint import WEIGHTS_CHECKED_ATTR, CheckpointMismatchError, compare_state_dicts

#: how to relax the estimator's own strict loading (printed with every mismatch report)
MODEL_RELAX_HINT = ('Check that the checkpoint was trained with this config. To load the matching tensors anyway, set '
                    'model.load_strict=False in the config (e.g. cfg_options={"model.load_strict": False}).')

#: ImageNet normalisation in 0-255 units; images arrive BGR (as loaded) and are converted to RGB
IMAGENET_DATA_PREPROCESSOR = dict(type='PoseDataPreprocessor',
                                  mean=[123.675, 116.28, 103.53],
                                  std=[58.395, 57.12, 57.375],
                                  bgr_to_rgb=True)


@MODELS.register_module()
class PointHMR(TopdownPoseEstimator):
    """PointHMR ("Sampling is Matter", CVPR 2023) as an mmpose top-down estimator.

    ``loss`` returns the weighted terms of the head; ``predict`` fills ``pred_instances`` with ``keypoints`` (mapped
    from the 224 crop to image pixels with ``input_center`` / ``input_scale`` / ``input_size`` by
    :meth:`add_pred_to_datasample`), ``keypoint_scores``, ``keypoints_3d``, ``joints_14``, ``vertices``, ``camera`` and
    ``bboxes``; ``tensor`` returns the head's output dict. Flip test is not supported.

    Args:
        backbone: backbone config (mmpose ``HRNet`` W32 with ``multiscale_output=True``).
        neck: ``PointGuidedSampler`` config.
        head: ``ProgressiveMaskTransformerHead`` config.
        data_preprocessor: defaults to :data:`IMAGENET_DATA_PREPROCESSOR`.
        load_strict: loading a state_dict into the estimator (``load_state_dict``, mmengine's ``load_checkpoint``,
            hence ``mmpose.apis.init_model``) raises :class:`CheckpointMismatchError` listing every missing /
            unexpected key and shape mismatch, whatever ``strict`` the caller passes; False only logs the report.
            Loads into submodules (a backbone's ``init_cfg=dict(type='Pretrained', ...)``) are not affected.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: OptConfigType = None,
                 head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None,
                 load_strict: bool = True) -> None:
        if neck is None or head is None:
            raise ValueError('PointHMR needs both a neck (PointGuidedSampler) and a head '
                             '(ProgressiveMaskTransformerHead); see configs/_base_/models/')
        if test_cfg and test_cfg.get('flip_test', False):
            raise ValueError('PointHMR does not support flip test; set test_cfg.flip_test=False')
        if data_preprocessor is None:
            data_preprocessor = dict(IMAGENET_DATA_PREPROCESSOR)
        if isinstance(data_preprocessor, dict):  # build from mmpose's registry: works without default_scope='mmpose'
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(backbone=backbone,
                         neck=neck,
                         head=head,
                         train_cfg=train_cfg,
                         test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg,
                         metainfo=metainfo)
        # the head's body model holds fixed data built from the same files on every rank: DDP neither broadcasts it
        # (it cannot broadcast the mesh sampler's sparse matrices) nor checks it
        body_model = getattr(self.head, 'body_model', None)
        if body_model is not None:
            self._ddp_params_and_buffers_to_ignore = [
                f'head.body_model.{name}' for name, _ in body_model.named_buffers()
            ]
        self.load_strict = bool(load_strict)
        # registered after mmpose's own pre-hook, so it sees the keys that hook renamed / removed
        self._register_load_state_dict_pre_hook(self._check_state_dict_pre_hook)

    def _check_state_dict_pre_hook(self, state_dict: Dict[str, Any], prefix: str, *args, **kwargs) -> None:
        """Compare the incoming weights under ``prefix`` with the estimator's state_dict (keys and shapes)."""
        if self.__dict__.get(WEIGHTS_CHECKED_ATTR, False):
            return
        weights = {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
        report = compare_state_dicts(self.state_dict(), weights)
        if report.ok:
            return
        if self.load_strict:
            raise CheckpointMismatchError(report,
                                          source=f'loading weights into {type(self).__name__}',
                                          hint=MODEL_RELAX_HINT)
        print_log(f'{type(self).__name__}: loading non-strictly (model.load_strict=False):\n{report.format()}',
                  logger='current',
                  level=30)
