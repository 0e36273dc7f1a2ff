"""Small hand-built METRO TSV datasets for the dataset / transform tests."""
import os.path as osp
from typing import Dict, List

import numpy as np
import pytest
import yaml

from pointhmr.datasets.mesh_tsv_format import encode_image, encode_label
from pointhmr.datasets.tsv_file import write_tsv


def make_annotation(rng: np.random.Generator, width: int = 160, height: int = 120) -> Dict:
    """A plausible random label row (official behaviour §6.2)."""
    joints_2d = np.concatenate([rng.uniform([0, 0], [width, height], (24, 2)), rng.integers(0, 2, (24, 1))], 1)
    joints_3d = np.concatenate([rng.normal(0, 0.4, (24, 3)) + [0, 0, 4], np.ones((24, 1))], 1)
    return {
        'center': [width / 2 + rng.uniform(-5, 5),
                   height / 2 + rng.uniform(-5, 5)], 'scale': float(rng.uniform(0.4, 0.6)), '2d_joints':
        joints_2d.tolist(), 'has_2d_joints': 1, '3d_joints': joints_3d.tolist(), 'has_3d_joints': 1, 'pose':
        rng.normal(0, 0.3, 72).tolist(), 'betas': rng.normal(0, 1, 10).tolist(), 'has_smpl': 1
    }


def make_image(rng: np.random.Generator, width: int = 160, height: int = 120) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.stack([xs * 255 // width, ys * 255 // height, np.full_like(xs, int(rng.integers(0, 255)))], -1)
    return image.astype(np.uint8)


def write_split(folder: str, prefix: str, annotations: List[Dict], images: List[np.ndarray], linelist=None) -> Dict:
    """Write img/hw/label(/linelist) TSVs; return the non-composite yaml mapping (paths relative to ``folder``)."""
    keys = [f'{prefix}_{i:03d}.jpg' for i in range(len(annotations))]
    write_tsv(osp.join(folder, f'{prefix}.img.tsv'), [(k, encode_image(im)) for k, im in zip(keys, images)])
    write_tsv(osp.join(folder, f'{prefix}.hw.tsv'),
              [(k, f'[{{"height": {im.shape[0]}, "width": {im.shape[1]}}}]') for k, im in zip(keys, images)])
    write_tsv(osp.join(folder, f'{prefix}.label.tsv'), [(k, encode_label(a)) for k, a in zip(keys, annotations)])
    config = dict(img=f'{prefix}.img.tsv', hw=f'{prefix}.hw.tsv', label=f'{prefix}.label.tsv')
    if linelist is not None:
        write_tsv(osp.join(folder, f'{prefix}.linelist.tsv'), [(str(i), ) for i in linelist])
        config['linelist'] = f'{prefix}.linelist.tsv'
    return config


@pytest.fixture
def tiny_split(tmp_path):
    """A 4-row split: returns (yaml path, annotations, images)."""
    rng = np.random.default_rng(0)
    annotations = [make_annotation(rng) for _ in range(4)]
    images = [make_image(rng) for _ in range(4)]
    config = write_split(str(tmp_path), 'tiny', annotations, images)
    path = tmp_path / 'tiny.yaml'
    path.write_text(yaml.safe_dump(config))
    return str(path), annotations, images


@pytest.fixture
def tsv_helpers():
    """The row/split builders above (test modules cannot import conftest by name)."""
    import types
    return types.SimpleNamespace(make_annotation=make_annotation, make_image=make_image, write_split=write_split)


@pytest.fixture(scope='session')
def synthetic_generator():
    """Generator on the embedded body (built once per test session)."""
    import torch
    torch.set_num_threads(1)
    from pointhmr.datasets.synthetic import SyntheticMeshGenerator
    return SyntheticMeshGenerator(seed=0, batch_size=4)


@pytest.fixture(scope='session')
def synthetic_yamls(tmp_path_factory, synthetic_generator):
    """A tiny synthetic dataset on disk: {'train': yaml, 'test': yaml} with 6 and 4 samples."""
    from pointhmr.datasets.synthetic import make_synthetic_dataset
    out = tmp_path_factory.mktemp('synthetic')
    return make_synthetic_dataset(str(out), {'train': 6, 'test': 4}, seed=0, body=synthetic_generator.body)
