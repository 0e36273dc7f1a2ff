"""Convert METRO / PointHMR body data files into pickle-free formats.

    python tools/model_converters/convert_smpl_assets.py SRC_DIR DST_DIR

* ``SRC_DIR/mesh_downsampling.npz`` (pickled scipy matrices) -> ``DST_DIR/mesh_downsampling_coo.npz`` (COO triplets
  ``A0..A2``, ``U0..U1``, ``D0..D1`` as ``*_row/_col/_data/_shape`` and faces ``F0..F2``; loads with
  ``MeshSampler.from_file`` or ``np.load(allow_pickle=False)``).
* ``SRC_DIR/smpl_431_adjmat_{indices,values,size}.pt`` -> ``DST_DIR/smpl_431_adjmat.npz`` (``indices``, ``values``,
  ``size``).

Both inputs are read with restricted loaders (no arbitrary code runs); outputs are written atomically.
"""
import argparse
import io
import os
import sys
from typing import List, Optional

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from pointhmr.body.mesh_sampler import MeshSampler  # noqa: E402
from pointhmr.body.safe_pickle import load_legacy_adjacency  # noqa: E402
from pointhmr.fileio import atomic_write_bytes  # noqa: E402


def convert_mesh_downsampling(src: str, dst: str) -> str:
    """METRO ``mesh_downsampling.npz`` -> pickle-free npz; returns the written path."""
    MeshSampler.from_file(src).save_pickle_free(dst)
    return dst


def convert_adjacency(indices_pt: str, values_pt: str, size_pt: str, dst: str) -> str:
    """Legacy ``smpl_431_adjmat_*.pt`` triple -> ``npz`` with ``indices (2, E)``, ``values (E,)``, ``size (2,)``."""
    matrix = load_legacy_adjacency(indices_pt, values_pt, size_pt).tocoo()
    order = np.lexsort((matrix.col, matrix.row))
    buffer = io.BytesIO()
    np.savez(buffer,
             indices=np.stack([matrix.row[order], matrix.col[order]]).astype(np.int64),
             values=matrix.data[order].astype(np.float32),
             size=np.asarray(matrix.shape, dtype=np.int64))
    atomic_write_bytes(dst, buffer.getvalue())
    return dst


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert METRO/PointHMR body data files into pickle-free npz files.')
    parser.add_argument('src_dir', help='folder with mesh_downsampling.npz and/or smpl_431_adjmat_*.pt')
    parser.add_argument('dst_dir', help='output folder (created if missing)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not os.path.isdir(args.src_dir):
        print(f'error: source folder not found: {args.src_dir}', file=sys.stderr)
        return 2
    os.makedirs(args.dst_dir, exist_ok=True)
    written = []
    mesh_file = os.path.join(args.src_dir, 'mesh_downsampling.npz')
    if os.path.isfile(mesh_file):
        written.append(convert_mesh_downsampling(mesh_file, os.path.join(args.dst_dir, 'mesh_downsampling_coo.npz')))
    adj = [os.path.join(args.src_dir, f'smpl_431_adjmat_{name}.pt') for name in ('indices', 'values', 'size')]
    if all(os.path.isfile(p) for p in adj):
        written.append(convert_adjacency(*adj, os.path.join(args.dst_dir, 'smpl_431_adjmat.npz')))
    if not written:
        print(
            f'error: nothing to convert in {args.src_dir} (expected mesh_downsampling.npz or '
            'smpl_431_adjmat_{indices,values,size}.pt)',
            file=sys.stderr)
        return 1
    for path in written:
        print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
