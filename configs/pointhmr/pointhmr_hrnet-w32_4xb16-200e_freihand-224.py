# PointHMR-HR32 for hands (MANO, FreiHAND). The official release has no hand recipe (only leftovers of one), so this
# follows the nearest documented FreiHAND recipes of PointHMR's ancestors:
# * FastMETRO's FreiHAND training command (4 GPUs x 16 images, Adam lr 1e-4, 200 epochs, METRO's LR rule: x0.1 at half
#   of the epochs) and METRO's (Adam lr 1e-4, 200 epochs, same rule);
# * METRO's hand losses: 1000 x 3D joints, 100 x vertices with the two mesh levels weighted 0.5 / 0.5, 100 x 2D
#   joints; PointHMR's point (heatmap) term 10 as for the body;
# * METRO's hand augmentation (its hand_mesh_tsv.py, kept in PointHMR's release): rotation N(0, 90 deg) clipped to
#   +-180 deg and zero with probability 0.6, scale N(1, 0.25) clipped to [0.75, 1.25], per-channel pixel noise
#   U(0.6, 1.4), never flipped (a right-hand model).
# Mesh: MANO, 778 vertices, 195 coarse vertices (vertex tokens / heatmaps), 21 joint tokens -> 1 + 49 + 21 + 195 = 266
# tokens, 7/5/3/1-hop masks on the 195-vertex graph, 195 -> 778 up-sampling with the fixed U matrix.
#   bash tools/dist_train.sh configs/pointhmr/pointhmr_hrnet-w32_4xb16-200e_freihand-224.py 4
#   bash tools/dist_test.sh configs/pointhmr/pointhmr_hrnet-w32_4xb16-200e_freihand-224.py CHECKPOINT 4
# FreiHAND's test labels are hidden: testing writes the submission file pred.json / pred.zip (21 joints and 778
# vertices per image, metres, FreiHAND order) for the official evaluation server. Reference point (FastMETRO-L-H64):
# PA-MPJPE 6.5 mm. Not reproduced here (no GPU was available).
#
# Real files (MANO's licence forbids redistribution): point body_model at MANO_RIGHT.pkl and METRO's
# mano_downsampling.npz, e.g. dict(type='MANOHandModel', model_path='data/mano/MANO_RIGHT.pkl',
# mesh_sampler_path='data/mano/mano_downsampling.npz'); None = the embedded synthetic hand.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/pointhmr_hrnet-w32.py']

body_model = dict(type='MANOHandModel')
input_size = (224, 224)

model = dict(neck=dict(num_vertices=195),
             head=dict(num_joints=None,
                       num_vertices=None,
                       body_model=body_model,
                       loss_weights=dict(vertices_195=0.5, vertices_778=0.5)))

# ---------------------------------------------------------------- schedule (Adam, x0.1 at half of the epochs)
max_epochs = 200
# FreiHAND's test split has no public labels: validate only at the end (it writes pred.json)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[max_epochs // 2], gamma=0.1)]
auto_scale_lr = dict(base_batch_size=64, enable=False)
sync_bn = 'torch'

# ---------------------------------------------------------------- data (METRO's FreiHAND TSV/YAML layout)
data_root = 'data/freihand/'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='MeshBBoxCenterScale'),
    dict(type='RandomMeshAugmentation',
         flip_prob=0.0,
         rot_std=90.0,
         rot_max=180.0,
         rot_zero_prob=0.6,
         scale_std=0.25,
         scale_range=(0.75, 1.25),
         noise=0.4),
    dict(type='MeshTopdownAffine', input_size=input_size, root_index=0, flip_perm=None, pose_flip_perm=None),
    dict(type='PackMeshInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='MeshBBoxCenterScale'),
    dict(type='MeshTopdownAffine', input_size=input_size, root_index=0, flip_perm=None, pose_flip_perm=None),
    dict(type='PackMeshInputs'),
]
train_dataloader = dict(batch_size=16,
                        num_workers=4,
                        persistent_workers=True,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(type='HandMeshTSVDataset',
                                     data_root=data_root,
                                     ann_file='train.yaml',
                                     pipeline=train_pipeline))
val_dataloader = dict(batch_size=16,
                      num_workers=4,
                      persistent_workers=True,
                      drop_last=False,
                      sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
                      dataset=dict(type='HandMeshTSVDataset',
                                   data_root=data_root,
                                   ann_file='test.yaml',
                                   test_mode=True,
                                   pipeline=val_pipeline))
test_dataloader = val_dataloader

# FreiHAND protocol (mm): wrist-aligned MPJPE / MPVPE, PA-MPJPE / PA-MPVPE, F@5mm / F@15mm of the aligned vertices
# (computed where labels exist) and the submission file <outfile_prefix>pred.json / pred.zip
val_evaluator = dict(type='MeshMetric',
                     body_model=body_model,
                     fscore_thresholds_mm=(5, 15),
                     outfile_prefix='work_dirs/pointhmr_hrnet-w32_4xb16-200e_freihand-224/freihand_',
                     prefix='mesh')
test_evaluator = val_evaluator

# no labelled validation set: keep the last checkpoints instead of a "best" one
default_hooks = dict(logger=dict(interval=100), checkpoint=dict(interval=10, save_best=None))
visualizer = dict(type='MeshVisualizer', body_model=body_model)
