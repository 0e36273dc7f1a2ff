# Ablation: a fixed (non-progressive) mask. Vertex tokens attend to vertices within 3 hops in all four stacks instead of
# the wide-to-narrow 7/5/3/1 schedule.
# Crop / 2D labels: as the H36M config (crop_mode='official' in evaluation, 'exact' in training; exact-affine 2D
# labels without the official "truncate then +1").
_base_ = ['./pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py']

model = dict(head=dict(hops=(3, 3, 3, 3)))
