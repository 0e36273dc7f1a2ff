# Short name of the official H36M recipe (the command in the design card):
#   python tools/train.py configs/pointhmr_h36m.py
_base_ = ['./pointhmr/pointhmr_hrnet-w32_2xb12-60e_h36m-mix-224.py']
