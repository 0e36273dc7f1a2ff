"""A tiny model + dataset to run PointHMRRunner in-process in a second."""
from pathlib import Path

import pytest
import torch
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset

from pointhmr.engine import PointHMRRunner


class ToyModel(BaseModel):
    """Linear regressor; loss = mean squared output."""

    def __init__(self, width: int = 2):
        super().__init__()
        self.linear = nn.Linear(width, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs)
        if mode == 'loss':
            return {'loss': out.pow(2).mean()}
        return out


class ToyDataset(Dataset):

    def __init__(self, size: int = 4, width: int = 2):
        self.items = [torch.full((width, ), float(i)) for i in range(size)]
        self.ann_file = 'toy.yaml'

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.items[index])


def make_runner(work_dir: Path, max_iters: int = 2, dataset_size: int = 4, width: int = 2, **overrides):
    cfg = dict(
        model=ToyModel(width),
        work_dir=str(work_dir),
        train_dataloader=dict(dataset=ToyDataset(dataset_size, width),
                              sampler=dict(type='InfiniteSampler'),
                              batch_size=2,
                              num_workers=0),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmpose',
        experiment_name=f'toy_{work_dir.name}_{max_iters}_{len(overrides)}',
    )
    cfg.update(overrides)
    return PointHMRRunner(**cfg)


@pytest.fixture(name='make_runner')
def make_runner_fixture():
    """``make_runner(work_dir, max_iters=2, dataset_size=4, width=2, **runner_kwargs)`` -> PointHMRRunner."""
    return make_runner


@pytest.fixture
def trained(tmp_path) -> Path:
    """Work dir of a 2-iteration toy run (iter_1.pth, iter_2.pth)."""
    work_dir = tmp_path / 'run'
    make_runner(work_dir).train()
    return work_dir
