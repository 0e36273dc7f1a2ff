# PointHMR-HR32, the official "3DPW model" recipe (scripts/finetuning.sh): fine-tune the H36M model on 3DPW train for
# 5 epochs (x0.1 at epoch 3), base lr 1e-4 (see the note on the inverted learning rates in the H36M config),
# evaluate on 3DPW test (has_gender split; GT mesh = neutral SMPL, as the official code).
# Reported: MPVPE 85.5, MPJPE 73.9, PA-MPJPE 44.9 mm.
#
# Start from the H36M checkpoint (a run of the H36M config, or the released PointHMR_h36m.bin after
# tools/model_converters/convert_official_ckpt.py):
#   bash tools/dist_train.sh configs/pointhmr/pointhmr_hrnet-w32_2xb12-5e_3dpw-224.py 2 \
#       --cfg-options load_from=work_dirs/pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224/best_mesh_PA-MPJPE_epoch_N.pth
#
# Crop and labels (pipelines inherited from the H36M config): evaluation crop_mode='official' (integer box + bilinear
# resize, as the official code), training crop_mode='exact'; 2D labels use the exact affine (no "truncate then +1").
_base_ = ['./pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py']

load_from = None  # set to the H36M checkpoint (see above); training from scratch on 3DPW alone is not the recipe

max_epochs = 5
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[3], gamma=0.1)]

train_dataloader = dict(dataset=dict(ann_file='3dpw/train.yaml'))
val_dataloader = dict(dataset=dict(ann_file='3dpw/test_has_gender.yaml'))
test_dataloader = val_dataloader
