# The official PointHMR-HR32 (official behaviour §1): HRNet-W32 trunk, point-guided sampling neck, 4-stack
# progressive-mask transformer (7/5/3/1 hops); 59,086,504 parameters. Code that needs the default model loads this file
# (pointhmr.utils.load_model_config('pointhmr_hrnet-w32')). The backbone starts from random weights unless init_cfg
# points to a converted pre-trained HRNet:
#   model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/hrnet_w32.pth')))
hrnet_w32_extra = dict(stage1=dict(num_modules=1,
                                   num_branches=1,
                                   block='BOTTLENECK',
                                   num_blocks=(4, ),
                                   num_channels=(64, )),
                       stage2=dict(num_modules=1,
                                   num_branches=2,
                                   block='BASIC',
                                   num_blocks=(4, 4),
                                   num_channels=(32, 64)),
                       stage3=dict(num_modules=4,
                                   num_branches=3,
                                   block='BASIC',
                                   num_blocks=(4, 4, 4),
                                   num_channels=(32, 64, 128)),
                       stage4=dict(num_modules=3,
                                   num_branches=4,
                                   block='BASIC',
                                   num_blocks=(4, 4, 4, 4),
                                   num_channels=(32, 64, 128, 256),
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
             backbone=dict(type='HRNet', in_channels=3, extra=hrnet_w32_extra, init_cfg=None),
             neck=dict(type='PointGuidedSampler',
                       in_channels=(32, 256),
                       in_indices=(0, 3),
                       feat_channels=512,
                       num_vertices=431,
                       num_blocks=(2, 2, 1),
                       use_point_sampling=True),
             head=dict(type='ProgressiveMaskTransformerHead',
                       in_channels=512,
                       position_channels=128,
                       reduced_channels=128,
                       num_heads=4,
                       feedforward_channels=(1024, 512),
                       num_layers=2,
                       dropout=0.1,
                       num_joints=14,
                       num_vertices=431,
                       num_grid_tokens=49,
                       hops=(7, 5, 3, 1),
                       keep_unused_embeddings=True,
                       heatmap_size=heatmap_size,
                       body_model=body_model,
                       decoder=codec),
             test_cfg=dict(flip_test=False))
