"""Ready model configs (plain dicts) for the official PointHMR-HR32 model and a light variant for tests/smoke runs.

The configs in ``configs/`` reuse these shapes: ``model = pointhmr_hrnet_w32_model()``.
"""
import copy
from typing import Optional

from .estimators.pointhmr import IMAGENET_DATA_PREPROCESSOR

#: mmpose HRNet-W32 stages; ``multiscale_output=True`` returns all 4 branches (the neck uses 0 and 3)
HRNET_W32_EXTRA = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ), num_channels=(64, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4), num_channels=(32, 64)),
    stage3=dict(num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4), num_channels=(32, 64, 128)),
    stage4=dict(num_modules=3, num_branches=4, block='BASIC', num_blocks=(4, 4, 4, 4),
                num_channels=(32, 64, 128, 256), multiscale_output=True))

#: one module per stage, narrow branches (8/16/32/64); same strides -> same token counts (49 grid, 431 vertices)
HRNET_LIGHT_EXTRA = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(16, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(8, 16)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
    stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1), num_channels=(8, 16, 32, 64),
                multiscale_output=True))

def pointhmr_hrnet_w32_model(body_model: Optional[dict] = None, backbone_init_cfg: Optional[dict] = None,
                             keep_unused_embeddings: bool = True, hops=(7, 5, 3, 1),
                             use_point_sampling: bool = True) -> dict:
    """The official PointHMR-HR32 (59,086,504 parameters with the unused embeddings kept).

    Args:
        body_model: body model config; default ``dict(type='SMPLBodyModel')`` (embedded synthetic body).
        backbone_init_cfg: e.g. ``dict(type='Pretrained', checkpoint=...)`` for a converted ImageNet/ROMP HRNet.
        keep_unused_embeddings / hops / use_point_sampling: see the head / neck (ablations).
    """
    return dict(
        type='PointHMR',
        data_preprocessor=copy.deepcopy(IMAGENET_DATA_PREPROCESSOR),
        backbone=dict(type='HRNet', in_channels=3, extra=copy.deepcopy(HRNET_W32_EXTRA), init_cfg=backbone_init_cfg),
        neck=dict(type='PointGuidedSampler', in_channels=(32, 256), in_indices=(0, 3), feat_channels=512,
                  num_vertices=431, num_blocks=(2, 2, 1), use_point_sampling=use_point_sampling),
        head=dict(type='ProgressiveMaskTransformerHead', in_channels=512, position_channels=128,
                  reduced_channels=128, num_heads=4, feedforward_channels=(1024, 512), num_layers=2, dropout=0.1,
                  num_joints=14, num_vertices=431, num_grid_tokens=49, hops=hops,
                  keep_unused_embeddings=keep_unused_embeddings, heatmap_size=(112, 112),
                  body_model=copy.deepcopy(body_model) if body_model else dict(type='SMPLBodyModel'),
                  decoder=dict(type='WeakPerspectiveCodec', input_size=(224, 224))),
        test_cfg=dict(flip_test=False))


def pointhmr_light_model(body_model: Optional[dict] = None, hops=(7, 5, 3, 1), use_point_sampling: bool = True,
                         keep_unused_embeddings: bool = False) -> dict:
    """A light variant with faithful token counts (495) for tests and smoke training: narrow HRNet, 64-d content,
    32-d position code (96-d stage 1), 32-d stage 2, one layer per stack, small heatmap head hidden width."""
    return dict(
        type='PointHMR',
        data_preprocessor=copy.deepcopy(IMAGENET_DATA_PREPROCESSOR),
        backbone=dict(type='HRNet', in_channels=3, extra=copy.deepcopy(HRNET_LIGHT_EXTRA)),
        neck=dict(type='PointGuidedSampler', in_channels=(8, 64), in_indices=(0, 3), feat_channels=64,
                  num_vertices=431, heatmap_channels=32, num_blocks=(1, 1, 1), use_point_sampling=use_point_sampling),
        head=dict(type='ProgressiveMaskTransformerHead', in_channels=64, position_channels=32, reduced_channels=32,
                  num_heads=4, feedforward_channels=(128, 64), num_layers=1, dropout=0.1, num_joints=14,
                  num_vertices=431, num_grid_tokens=49, hops=hops, keep_unused_embeddings=keep_unused_embeddings,
                  heatmap_size=(112, 112),
                  body_model=copy.deepcopy(body_model) if body_model else dict(type='SMPLBodyModel'),
                  decoder=dict(type='WeakPerspectiveCodec', input_size=(224, 224))),
        test_cfg=dict(flip_test=False))
