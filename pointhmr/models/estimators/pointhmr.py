"""PointHMR estimator: an mmpose top-down estimator (HRNet backbone, point-guided sampler neck, transformer head)."""
from typing import Optional

from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig

#: ImageNet normalisation in 0-255 units; images arrive BGR (as loaded) and are converted to RGB
IMAGENET_DATA_PREPROCESSOR = dict(
    type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True)


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
    """

    def __init__(self, backbone: ConfigType, neck: OptConfigType = None, head: OptConfigType = None,
                 train_cfg: OptConfigType = None, test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None, init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None) -> None:
        if neck is None or head is None:
            raise ValueError('PointHMR needs both a neck (PointGuidedSampler) and a head '
                             '(ProgressiveMaskTransformerHead); see configs/_base_/models/')
        if test_cfg and test_cfg.get('flip_test', False):
            raise ValueError('PointHMR does not support flip test; set test_cfg.flip_test=False')
        if data_preprocessor is None:
            data_preprocessor = dict(IMAGENET_DATA_PREPROCESSOR)
        if isinstance(data_preprocessor, dict):  # build from mmpose's registry: works without default_scope='mmpose'
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(backbone=backbone, neck=neck, head=head, train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg, metainfo=metainfo)
        # the head's body model holds fixed data built from the same files on every rank: DDP neither broadcasts it
        # (it cannot broadcast the mesh sampler's sparse matrices) nor checks it
        body_model = getattr(self.head, 'body_model', None)
        if body_model is not None:
            self._ddp_params_and_buffers_to_ignore = [
                f'head.body_model.{name}' for name, _ in body_model.named_buffers()]
