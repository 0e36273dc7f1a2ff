# Ablation: no point-guided sampling. Vertex tokens are a learned per-vertex embedding plus the spatially averaged
# target features (the same for every image position) instead of heatmap-weighted feature pooling. The heatmap head and
# its loss are kept, so only the sampling differs from the full model.
# Crop / 2D labels: as the H36M config (crop_mode='official' in evaluation, 'exact' in training; exact-affine 2D
# labels without the official "truncate then +1").
_base_ = ['./pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py']

model = dict(neck=dict(use_point_sampling=False))
