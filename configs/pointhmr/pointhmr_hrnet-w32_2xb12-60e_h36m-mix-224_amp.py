# Mixed-precision training on GPUs: the H36M-mix recipe with mmengine's AmpOptimWrapper (float16 autocast with dynamic
# loss scaling). On GPUs with bfloat16 (Ampere and later) `--cfg-options optim_wrapper.dtype=bfloat16` avoids loss
# scaling. Softmax, log and the losses run in float32 under autocast; the attention masks follow the query dtype.
# Not available on CPU (mmengine's AmpOptimWrapper needs a GPU); not yet measured on a GPU here.
# Crop / 2D labels: as the H36M config (crop_mode='official' in evaluation, 'exact' in training; exact-affine 2D
# labels without the official "truncate then +1").
_base_ = ['./pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py']

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
