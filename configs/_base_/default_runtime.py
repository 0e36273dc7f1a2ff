# Runtime shared by every pointhmr config (mmengine / mmpose 1.x conventions).
default_scope = 'mmpose'
# 'pointhmr' registers the model, datasets, transforms, metric and visualizer; 'pointhmr.utils' registers the
# crash-safe checkpoint backend 'atomic_local' used below.
custom_imports = dict(imports=['pointhmr'], allow_failed_imports=False)
# mmengine's Runner plus the project's checkpoint/dataset safety rules (pointhmr.engine.runner); weights load strictly
# (load_strict = False loads the matching tensors and logs the rest)
runner_type = 'PointHMRRunner'
load_strict = True

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # best model = lowest PA-MPJPE on the validation set (the official selection rule, official behaviour §4.1);
    # checkpoints are written to a temporary file and renamed (pointhmr.utils.atomic_checkpoint)
    checkpoint=dict(type='CheckpointHook',
                    interval=1,
                    max_keep_ckpts=3,
                    save_best='mesh/PA-MPJPE',
                    rule='less',
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='PoseVisualizationHook', enable=False),
    # stops the run at start-up when the model, the metrics and the visualizer use different body models
    mesh_model_check=dict(type='MeshModelCheckHook'),
    # validation / test epochs run the model in deploy mode (BatchNorm folding + Winograd on CPU)
    switch_to_deploy=dict(type='SwitchToDeployHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # NCCL for GPUs; tools/train.py and tools/test.py switch to gloo when CUDA is not available
    dist_cfg=dict(backend='nccl'))

# the official model keeps two never-used embeddings (cam_token_embed, vertex_token_embed) -> unused parameters
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='MeshVisualizer', vis_backends=vis_backends, name='visualizer')

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True, num_digits=6)
log_level = 'INFO'
load_from = None
resume = False

randomness = dict(seed=88)  # the official seed
backend_args = dict(backend='local')
