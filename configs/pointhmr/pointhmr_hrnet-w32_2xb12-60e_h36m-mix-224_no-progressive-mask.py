# Ablation: no progressive attention masking. Every token attends to every token in all four transformer stacks
# (the full model restricts vertex-vertex attention to 7/5/3/1 hops on the 431-vertex mesh graph).
# Crop / 2D labels: as the H36M config (crop_mode='official' in evaluation, 'exact' in training; exact-affine 2D
# labels without the official "truncate then +1").
_base_ = ['./pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py']

model = dict(head=dict(hops=None))
