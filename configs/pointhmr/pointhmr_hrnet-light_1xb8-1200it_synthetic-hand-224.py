# Light PointHMR for hands on the synthetic hand dataset: a CPU-sized end-to-end run of the hand variant.
#   python tools/dataset_converters/make_synthetic_hand_dataset.py   # data/synthetic_hand/{train,test}.yaml
#   python tools/train.py configs/pointhmr/pointhmr_hrnet-light_1xb8-1200it_synthetic-hand-224.py
# At the end MeanPoseBaselineHook tests the final model on the held-out split and prints it next to the mean-hand
# baseline (the training set's mean wrist-centred joints / mesh for every test image). Measured (2000 / 200 images, seed
# 0, 1200 iterations, 2 CPU cores, 9-13 minutes): MPJPE 20.3 / PA-MPJPE 12.3 / MPVPE 20.3 / PA-MPVPE 13.1 mm, F@5mm
# 0.41, F@15mm 0.92 against the mean hand's 54.7 / 20.0 / 53.1 / 19.6 mm, 0.25, 0.77; see the README ("Hands").
# Same model and loss settings as the light synthetic body config (fitted-camera heatmap targets, heatmap weight 1000,
# 56 x 56 loss heatmap, no dropout, small token codes, surface losses 100 / 10 / 100 on the coarse and full meshes),
# with the MANO hand: 21 joint tokens, 195 vertex tokens (266 tokens), 195 -> 778, the two vertex levels weighted
# 0.5 / 0.5 (METRO's hand recipe) and the 2D joint terms weighted 1 instead of 100: a hand crop needs a weak-perspective
# scale of about 8 (a 0.2 m hand fills the [-1, 1] crop; a body needs about 1), which the zero-initialised camera does
# not reach in a few hundred Adam steps, and until then the 2D terms only pull the 3D joints around.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/pointhmr_light.py']

body_model = dict(type='MANOHandModel')
input_size = (224, 224)
heatmap_size = (56, 56)  # the loss heatmap at the logits' resolution, as the light synthetic body config

model = dict(neck=dict(num_vertices=195),
             head=dict(num_joints=None,
                       num_vertices=None,
                       body_model=body_model,
                       heatmap_size=heatmap_size,
                       dropout=0.0,
                       heatmap_camera='ground_truth',
                       embedding_init_std=0.02,
                       surface_levels=(1, 0),
                       loss_weights=dict(heatmap=1000.,
                                         edge_length=100.,
                                         normal=10.,
                                         laplacian=100.,
                                         vertices_195=0.5,
                                         vertices_778=0.5,
                                         joints_2d=1.,
                                         joints_2d_reg=1.)))

# ---------------------------------------------------------------- schedule (iteration based; Adam)
max_iters = 1200
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.), clip_grad=None)
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[int(max_iters * 0.75)], gamma=0.1)]
auto_scale_lr = dict(base_batch_size=8, enable=False)

# ---------------------------------------------------------------- data: make_synthetic_hand_dataset.py output
data_root = 'data/synthetic_hand/'
# hand augmentation as FreiHAND's (never flipped), milder rotation / scale for the short run
hand_affine = dict(type='MeshTopdownAffine', input_size=input_size, root_index=0, flip_perm=None, pose_flip_perm=None)
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='MeshBBoxCenterScale'),
    dict(type='RandomMeshAugmentation',
         flip_prob=0.0,
         rot_zero_prob=1.0,
         scale_std=0.1,
         scale_range=(0.9, 1.1),
         noise=0.2),
    hand_affine,
    dict(type='PackMeshInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='MeshBBoxCenterScale'),
    hand_affine,
    dict(type='PackMeshInputs'),
]
train_dataloader = dict(batch_size=8,
                        num_workers=1,
                        persistent_workers=True,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(type='HandMeshTSVDataset',
                                     data_root=data_root,
                                     ann_file='train.yaml',
                                     pipeline=train_pipeline))
val_dataloader = dict(batch_size=16,
                      num_workers=1,
                      persistent_workers=True,
                      drop_last=False,
                      sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
                      dataset=dict(type='HandMeshTSVDataset',
                                   data_root=data_root,
                                   ann_file='test.yaml',
                                   test_mode=True,
                                   pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='MeshMetric',
                     body_model=body_model,
                     fscore_thresholds_mm=(5, 15),
                     surface_metrics=True,
                     prefix='mesh')
test_evaluator = val_evaluator

default_hooks = dict(logger=dict(interval=20), checkpoint=dict(by_epoch=False, interval=200, max_keep_ckpts=2))
log_processor = dict(by_epoch=False, window_size=20)
randomness = dict(seed=0)
visualizer = dict(type='MeshVisualizer', body_model=body_model)

# after training, test the model and log it next to the mean-hand baseline (<work_dir>/mean_pose_baseline.json)
custom_hooks = [dict(type='MeanPoseBaselineHook')]
