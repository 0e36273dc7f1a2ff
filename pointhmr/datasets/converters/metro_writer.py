"""Write one METRO split (``<split>.{img,hw,label,linelist}.tsv`` + ``.lineidx`` + ``<split>.yaml``).

Images are stored as the source file's own bytes (base64, no re-encoding).

Atomic and resumable: rows are appended to ``<split>.{img,hw,label}.tsv.partial`` files; every ``checkpoint_every``
rows they are flushed to disk and ``<split>.progress.json`` records how many rows and bytes are safely written
(replaced atomically, :mod:`pointhmr.fileio`). An interrupted run continues from the last checkpoint (the partial
files are cut back to it). At the end the partial files are renamed to their final names, the indexes and the line
list written, and the yaml comes last: a split whose yaml exists is complete and a re-run skips it (``overwrite=True``
converts it again).
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
from ..tsv_file import lineidx_path, scan_offsets, write_tsv

_STREAMS = ('img', 'hw', 'label')


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
    return all(osp.isfile(osp.join(out_dir, config.get(kind, ''))) for kind in _STREAMS)


def _progress_bar(total: Optional[int], desc: str, initial: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit='img', initial=initial, disable=not enabled, dynamic_ncols=True)


class _PartialSplit:
    """The ``.partial`` files of a split being written and its ``progress.json`` checkpoint."""

    def __init__(self, out_dir: str, split: str, total: Optional[int]) -> None:
        self.final = {kind: osp.join(out_dir, f'{split}.{kind}.tsv') for kind in _STREAMS}
        self.partial = {kind: path + '.partial' for kind, path in self.final.items()}
        self.progress_path = osp.join(out_dir, f'{split}.progress.json')
        self.total = total
        self.rows, self.first_key, self.handles = 0, None, {}
        self.sizes = {kind: 0 for kind in _STREAMS}  # bytes of the complete rows

    def discard(self) -> None:
        for path in [*self.partial.values(), self.progress_path]:
            if osp.exists(path):
                os.remove(path)

    def open(self) -> int:
        """Open for appending after the last checkpoint; return the number of rows already written."""
        state = None
        if osp.isfile(self.progress_path) and all(osp.isfile(p) for p in self.partial.values()):
            with open(self.progress_path) as f:
                state = json.load(f)
            sizes_ok = all(osp.getsize(self.partial[k]) >= state['bytes'][k] for k in _STREAMS)
            if state.get('total') != self.total or not sizes_ok:
                state = None  # another source or damaged files: start again
        if state is None:
            self.discard()
            state = dict(rows=0, bytes={kind: 0 for kind in _STREAMS}, first_key=None)
        for kind in _STREAMS:
            with open(self.partial[kind], 'ab') as f:
                f.truncate(state['bytes'][kind])
            self.handles[kind] = open(self.partial[kind], 'ab')
        self.rows, self.first_key = int(state['rows']), state['first_key']
        self.sizes = dict(state['bytes'])
        return self.rows

    def append(self, columns: Dict[str, tuple]) -> None:
        lines = {}
        for kind in _STREAMS:
            line = '\t'.join(columns[kind])
            if '\n' in line or '\r' in line:
                raise ValueError(f'row {self.rows} for {self.final[kind]!r} contains a newline')
            lines[kind] = (line + '\n').encode('utf-8')
        for kind in _STREAMS:
            self.handles[kind].write(lines[kind])
            self.sizes[kind] += len(lines[kind])
        if self.rows == 0:
            self.first_key = columns['label'][0]
        self.rows += 1

    def checkpoint(self) -> None:
        """Make the complete rows so far durable, then record them."""
        for handle in self.handles.values():
            handle.flush()
            os.fsync(handle.fileno())
        with atomic_write(self.progress_path, 'w') as f:
            json.dump(dict(rows=self.rows, bytes=self.sizes, total=self.total, first_key=self.first_key), f)

    def finish(self) -> int:
        """Rename the partial files to their final names and write their indexes; return the row count."""
        self.checkpoint()
        for handle in self.handles.values():
            handle.close()
        for kind in _STREAMS:
            with open(self.partial[kind], 'ab') as f:
                f.truncate(self.sizes[kind])
            offsets = scan_offsets(self.partial[kind])
            if len(offsets) != self.rows:
                raise RuntimeError(f'{self.partial[kind]}: {len(offsets)} rows on disk but {self.rows} written')
            os.replace(self.partial[kind], self.final[kind])
            with atomic_write(lineidx_path(self.final[kind]), 'w') as f:
                f.write(''.join(f'{o}\n' for o in offsets.tolist()))
        os.remove(self.progress_path)
        return self.rows

    def close(self) -> None:
        for handle in self.handles.values():
            if not handle.closed:
                handle.close()


def write_metro_split(out_dir: str,
                      split: str,
                      samples: Iterable[MetroSample],
                      total: Optional[int] = None,
                      dataset_name: Optional[str] = None,
                      overwrite: bool = False,
                      progress: bool = True,
                      image_hint: str = '',
                      checkpoint_every: int = 1000) -> str:
    """Write ``samples`` as split ``split`` under ``out_dir`` (resuming an interrupted run); return the yaml path.

    ``samples`` must yield the same rows in the same order on every run (the converters here do). A complete split is
    skipped unless ``overwrite``.
    """
    yaml_path = osp.join(out_dir, f'{split}.yaml')
    if not overwrite and split_is_complete(out_dir, split):
        print(f'{yaml_path} exists and is complete; skipping (use --overwrite to convert again)')
        return yaml_path
    os.makedirs(out_dir, exist_ok=True)
    if osp.exists(yaml_path):
        os.remove(yaml_path)  # from here on the split is incomplete
    writer = _PartialSplit(out_dir, split, total)
    if overwrite:
        writer.discard()
    done = writer.open()
    if done:
        print(f'{split}: resuming after {done} rows written by an interrupted run')
    bar = _progress_bar(total, split, done, progress)
    try:
        for index, sample in enumerate(samples):
            if index < done:
                if index == 0 and sample.key != writer.first_key:
                    raise RuntimeError(f'{writer.progress_path} was written for another source (first key '
                                       f'{writer.first_key!r}, now {sample.key!r}); rerun with --overwrite')
                continue
            data, height, width = read_image_bytes(sample.image_path, image_hint)
            writer.append(
                dict(img=(sample.key, base64.b64encode(data).decode('ascii')),
                     hw=(sample.key, json.dumps([{'height': height, 'width': width}])),
                     label=(sample.key, encode_label(sample.annotation))))
            bar.update(1)
            if writer.rows % checkpoint_every == 0:
                writer.checkpoint()
    except BaseException:
        try:
            writer.checkpoint()  # keep the complete rows written so far for the next run
        except OSError:
            pass
        raise
    else:
        rows = writer.finish()
    finally:
        bar.close()
        writer.close()
    names = {kind: osp.basename(path) for kind, path in writer.final.items()}
    names['linelist'] = f'{split}.linelist.tsv'
    write_tsv(osp.join(out_dir, names['linelist']), [(str(i), ) for i in range(rows)])
    config = dict(img=names['img'], hw=names['hw'], label=names['label'], linelist=names['linelist'])
    if dataset_name:
        config['dataset_name'] = dataset_name
    with atomic_write(yaml_path, 'w') as f:
        yaml.safe_dump(config, f, sort_keys=False)
    return yaml_path
