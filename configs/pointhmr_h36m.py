# Short name of the official H36M recipe (the command in the design card):
#   python tools/train.py configs/pointhmr_h36m.py
# Crop / 2D labels: as the H36M config (crop_mode='official' in evaluation, 'exact' in training; exact-affine 2D
# labels without the official "truncate then +1").
_base_ = ['./pointhmr/pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py']
