"""Write one METRO split (``<split>.{img,hw,label,linelist}.tsv`` + ``.lineidx`` + ``<split>.yaml``).

Images are stored as the source file's own bytes (base64, no re-encoding). Every file is written to a temporary name
and renamed (:mod:`pointhmr.fileio`); the yaml comes last, so a split whose yaml exists is complete and a re-run
skips it (``overwrite=True`` redoes it), while an interrupted split leaves no half-written file under a final name.
"""
import base64
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional

import cv2
import numpy as np
import yaml

from ...fileio import atomic_write
from ..mesh_tsv_format import encode_label
from ..tsv_file import write_tsv


@dataclass
class MetroSample:
    """One output row: the TSV key, the source image file and the annotation dict (label JSON fields)."""
    key: str
    image_path: str
    annotation: Dict[str, Any]


def read_image_bytes(path: str, hint: str = '') -> tuple:
    """Return ``(bytes, height, width)`` of an image file; clear errors for a missing or undecodable file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'image {path!r} not found{hint}')
    with open(path, 'rb') as f:
        data = f.read()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f'image {path!r} is not a readable JPEG/PNG ({len(data)} bytes); re-download it')
    return data, int(image.shape[0]), int(image.shape[1])


def split_is_complete(out_dir: str, split: str) -> bool:
    """True when ``<split>.yaml`` and the TSVs it names exist (the yaml is written last)."""
    yaml_path = osp.join(out_dir, f'{split}.yaml')
    if not osp.isfile(yaml_path):
        return False
    with open(yaml_path) as f:
        config = yaml.safe_load(f) or {}
    return all(osp.isfile(osp.join(out_dir, config.get(kind, ''))) for kind in ('img', 'hw', 'label'))


def _progress(total: Optional[int], desc: str, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit='img', disable=not enabled, dynamic_ncols=True)


def write_metro_split(out_dir: str,
                      split: str,
                      samples: Iterable[MetroSample],
                      total: Optional[int] = None,
                      dataset_name: Optional[str] = None,
                      overwrite: bool = False,
                      progress: bool = True,
                      image_hint: str = '') -> str:
    """Write ``samples`` as split ``split`` under ``out_dir``; return the yaml path (skip a complete split)."""
    yaml_path = osp.join(out_dir, f'{split}.yaml')
    if not overwrite and split_is_complete(out_dir, split):
        print(f'{yaml_path} exists and is complete; skipping (use --overwrite to convert again)')
        return yaml_path
    os.makedirs(out_dir, exist_ok=True)
    names = {kind: f'{split}.{kind}.tsv' for kind in ('img', 'hw', 'label', 'linelist')}
    hw_rows, label_rows = [], []
    bar = _progress(total, split, progress)

    def image_rows():
        for sample in samples:
            data, height, width = read_image_bytes(sample.image_path, image_hint)
            hw_rows.append((sample.key, json.dumps([{'height': height, 'width': width}])))
            label_rows.append((sample.key, encode_label(sample.annotation)))
            bar.update(1)
            yield sample.key, base64.b64encode(data).decode('ascii')

    try:
        write_tsv(osp.join(out_dir, names['img']), image_rows())
    finally:
        bar.close()
    write_tsv(osp.join(out_dir, names['hw']), hw_rows)
    write_tsv(osp.join(out_dir, names['label']), label_rows)
    write_tsv(osp.join(out_dir, names['linelist']), [(str(i), ) for i in range(len(label_rows))])
    config = dict(img=names['img'], hw=names['hw'], label=names['label'], linelist=names['linelist'])
    if dataset_name:
        config['dataset_name'] = dataset_name
    with atomic_write(yaml_path, 'w') as f:
        yaml.safe_dump(config, f, sort_keys=False)
    return yaml_path
