# Light PointHMR for CPU smoke runs and tests: narrow HRNet (8/16/32/64), 64-d tokens, one layer per stack, but the
# official token layout (1 camera + 49 grid + 14 joints + 431 vertices) and hop masks. Code and tests load it with
# pointhmr.utils.load_model_config('pointhmr_light').
hrnet_light_extra = dict(stage1=dict(num_modules=1,
                                     num_branches=1,
                                     block='BOTTLENECK',
                                     num_blocks=(1, ),
                                     num_channels=(16, )),
                         stage2=dict(num_modules=1,
                                     num_branches=2,
                                     block='BASIC',
                                     num_blocks=(1, 1),
                                     num_channels=(8, 16)),
                         stage3=dict(num_modules=1,
                                     num_branches=3,
                                     block='BASIC',
                                     num_blocks=(1, 1, 1),
                                     num_channels=(8, 16, 32)),
                         stage4=dict(num_modules=1,
                                     num_branches=4,
                                     block='BASIC',
                                     num_blocks=(1, 1, 1, 1),
                                     num_channels=(8, 16, 32, 64),
                                     multiscale_output=True))

# Declared once, referenced by the model below and by the full configs' pipeline (input_size), evaluator and visualizer
# (body_model). A config that changes one of them must pass the new value to every consumer (see README, "Real SMPL
# and datasets"); a model and a metric with different body models stop the run at start-up (MeshModelCheckHook).
body_model = dict(type='SMPLBodyModel')  # the embedded synthetic body; real SMPL files: see the README
input_size = (224, 224)  # network input (w, h): the crop size of the pipeline and the codec
codec = dict(type='WeakPerspectiveCodec', input_size=input_size)
heatmap_size = (112, 112)  # (w, h) of the point-supervision (loss) heatmap

model = dict(type='PointHMR',
             data_preprocessor=dict(type='PoseDataPreprocessor',
                                    mean=[123.675, 116.28, 103.53],
                                    std=[58.395, 57.12, 57.375],
                                    bgr_to_rgb=True),
             backbone=dict(type='HRNet', in_channels=3, extra=hrnet_light_extra),
             neck=dict(type='PointGuidedSampler',
                       in_channels=(8, 64),
                       in_indices=(0, 3),
                       feat_channels=64,
                       num_vertices=431,
                       heatmap_channels=32,
                       num_blocks=(1, 1, 1),
                       use_point_sampling=True),
             head=dict(type='ProgressiveMaskTransformerHead',
                       in_channels=64,
                       position_channels=32,
                       reduced_channels=32,
                       num_heads=4,
                       feedforward_channels=(128, 64),
                       num_layers=1,
                       dropout=0.1,
                       num_joints=14,
                       num_vertices=431,
                       num_grid_tokens=49,
                       hops=(7, 5, 3, 1),
                       keep_unused_embeddings=False,
                       heatmap_size=heatmap_size,
                       body_model=body_model,
                       decoder=codec),
             test_cfg=dict(flip_test=False))
