"""METRO TSV/YAML human-mesh dataset (official behaviour §6) as an mmengine ``BaseDataset``.

Rows are read on demand through ``.lineidx`` indexes (no annotation list in memory), so 300k-row training sets start
instantly and forked dataloader workers share nothing but file names.
"""
import copy
import functools
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import yaml
from mmengine.dataset import BaseDataset
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import DATASETS, TRANSFORMS

from pointhmr.body.joints import NUM_J24
from .mesh_tsv_format import RowError, decode_image, decode_label
from .metainfo import H36M_METAINFO, HAND21_METAINFO
from .tsv_file import CompositeTSVFile

_YAML_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def _loaded(method: Callable) -> Callable:
    """Open the TSV files first if ``lazy_init`` postponed it (quiet version of mmengine's ``force_full_init``)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not self._fully_initialized:
            self.full_init()
        return method(self, *args, **kwargs)

    return wrapper


def load_yaml(path: str) -> dict:
    """Safe YAML load (libyaml's CSafeLoader when available)."""
    with open(path) as f:
        content = yaml.load(f, Loader=_YAML_LOADER)
    if not isinstance(content, dict):
        raise ValueError(f'dataset yaml {path!r} must be a mapping with img/label (and optional hw/linelist) keys')
    return content


def _resolve(root: str, path: str) -> str:
    return path if osp.isabs(path) else osp.join(root, path)


def _read_path_list(root: str, entry: Union[str, Sequence[str]], yaml_path: str, key: str) -> List[str]:
    """A composite yaml entry: a list of TSV paths, or a text file listing them (one per line)."""
    if isinstance(entry, str):
        list_file = _resolve(root, entry)
        if list_file.endswith('.tsv'):
            return [entry]
        if not osp.isfile(list_file):
            raise FileNotFoundError(f'{yaml_path}: {key!r} names {list_file!r}, which does not exist')
        with open(list_file) as f:
            return [line.strip() for line in f if line.strip()]
    if not isinstance(entry, (list, tuple)) or not all(isinstance(p, str) for p in entry):
        raise ValueError(f'{yaml_path}: {key!r} must be a list of TSV paths or a text file listing them')
    return list(entry)


def _read_linelist(path: str, columns: int) -> np.ndarray:
    rows = []
    with open(path) as f:
        for number, line in enumerate(f):
            parts = line.split()
            if not parts:
                continue
            try:
                rows.append([int(p) for p in parts[:columns]])
            except ValueError as err:
                raise ValueError(f'line list {path!r}, line {number}: expected {columns} integer(s), got '
                                 f'{line.strip()!r}') from err
            if len(rows[-1]) != columns:
                raise ValueError(f'line list {path!r}, line {number}: expected {columns} integer(s), got '
                                 f'{line.strip()!r}')
    return np.asarray(rows, dtype=np.int64).reshape(-1, columns)


@DATASETS.register_module()
class MeshTSVDataset(BaseDataset):
    """Human-mesh dataset in METRO's TSV/YAML format (H36M, 3DPW, COCO-SMPL, MuCo, UP-3D, MPII, synthetic).

    Args:
        ann_file: the dataset yaml (``img``/``hw``/``label``/``linelist``; ``composite: true`` for mixes). Relative
            paths are taken from ``data_root``; paths inside the yaml are relative to the yaml's folder.
        data_root: folder prepended to a relative ``ann_file``.
        pipeline: transforms applied to each item.
        test_mode: mmengine semantics (no re-fetch on ``None``).
        metainfo: overrides of the H36M-17 keypoint meta information (:data:`H36M_METAINFO`).
        max_samples: keep only the first ``max_samples`` items (quick experiments, CI).
        lazy_init: open the TSV files on first use instead of in ``__init__``.
        dataset_name: name recorded in every item (default: the yaml's ``dataset_name`` key, else its folder name).
        lineidx_cache_dir: where to build missing ``.lineidx`` files of read-only folders.
        num_joints: label joints K per row (24 J24 body joints; 21 for FreiHAND hands, wrist first).
        num_pose_params: pose values P per row (72 SMPL; 48 MANO). Hands keep the label key names ``pose`` /
            ``betas`` / ``has_smpl`` of METRO's FreiHAND TSVs (``has_smpl`` then flags the MANO parameters).

    Item keys: ``img`` (BGR uint8), ``img_path`` (TSV key), ``img_id`` / ``id`` (dataset index), ``ori_shape``,
    ``img_shape``, ``bbox_center`` (1, 2), ``bbox_scale`` (1, 2) (= 200 * scale twice), ``bbox`` (1, 4) xyxy,
    ``bbox_score`` (1,), ``keypoints`` (1, K, 2) pixels, ``keypoints_visible`` (1, K), ``keypoints_3d`` (1, K, 4)
    metres (camera frame, not yet root-centred), ``smpl_pose`` (P,), ``smpl_betas`` (10,), ``has_2d_joints``,
    ``has_3d_joints``, ``has_smpl`` (float 0/1), ``dataset_name``.
    """

    METAINFO: dict = H36M_METAINFO

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 metainfo: Optional[dict] = None,
                 max_samples: Optional[int] = None,
                 lazy_init: bool = False,
                 dataset_name: Optional[str] = None,
                 lineidx_cache_dir: Optional[str] = None,
                 num_joints: int = NUM_J24,
                 num_pose_params: int = 72) -> None:
        if not ann_file:
            raise ValueError('MeshTSVDataset needs ann_file=<dataset yaml>')
        if num_joints <= 0 or num_pose_params <= 0 or num_pose_params % 3:
            raise ValueError('MeshTSVDataset: num_joints must be positive and num_pose_params a positive multiple of '
                             f'3, got {num_joints} and {num_pose_params}')
        self.num_joints, self.num_pose_params = int(num_joints), int(num_pose_params)
        if max_samples is not None and max_samples < 0:
            raise ValueError(f'max_samples must be >= 0 or None, got {max_samples}')
        self.max_samples = max_samples
        self.lineidx_cache_dir = lineidx_cache_dir
        self._dataset_name = dataset_name
        self.img_tsv: Optional[CompositeTSVFile] = None
        self.label_tsv: Optional[CompositeTSVFile] = None
        self.items: np.ndarray = np.zeros((0, ), dtype=np.int64)
        self._composite = False
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            # built from mmpose's registry so the dataset also works outside a Runner (no default scope needed)
            pipeline=[TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline],
            test_mode=test_mode,
            lazy_init=lazy_init,
            serialize_data=False)

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[dict] = None) -> dict:
        raw = copy.deepcopy(cls.METAINFO)
        extra = {}
        if metainfo is not None:
            metainfo = dict(metainfo)
            if 'from_file' in metainfo:
                raw = dict(from_file=metainfo.pop('from_file'))
            for key in ('dataset_name', 'keypoint_info', 'skeleton_info', 'joint_weights', 'sigmas', 'paper_info'):
                if key in metainfo:
                    raw[key] = metainfo.pop(key)
            extra = metainfo
        parsed = parse_pose_metainfo(raw)
        parsed.update(extra)
        return parsed

    # ------------------------------------------------------------------ loading
    def full_init(self) -> None:
        """Open the TSV files named by the yaml and build the item -> (source, row) table."""
        if self._fully_initialized:
            return
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'dataset yaml {self.ann_file!r} does not exist; check ann_file and data_root')
        config = load_yaml(self.ann_file)
        root = osp.dirname(osp.abspath(self.ann_file))
        for key in ('img', 'label'):
            if key not in config:
                raise ValueError(f'dataset yaml {self.ann_file!r} has no {key!r} entry (see official behaviour §6.3)')
        if config.get('composite', False):
            img_paths = _read_path_list(root, config['img'], self.ann_file, 'img')
            label_paths = _read_path_list(root, config['label'], self.ann_file, 'label')
            if len(img_paths) != len(label_paths):
                raise ValueError(f'{self.ann_file}: {len(img_paths)} img TSVs but {len(label_paths)} label TSVs')
            pairs = _read_linelist(_resolve(root, config['linelist']), 2) if config.get('linelist') else None
        else:
            img_paths, label_paths = [config['img']], [config['label']]
            pairs = None
            if config.get('linelist'):
                rows = _read_linelist(_resolve(root, config['linelist']), 1)[:, 0]
                pairs = np.stack([np.zeros_like(rows), rows], axis=1)
        cache = self.lineidx_cache_dir
        self._composite = bool(config.get('composite', False))
        self.img_tsv = CompositeTSVFile([_resolve(root, p) for p in img_paths], pairs, img_paths, cache)
        self.label_tsv = CompositeTSVFile([_resolve(root, p) for p in label_paths], pairs, label_paths, cache)
        for img_tsv, label_tsv in zip(self.img_tsv.tsvs, self.label_tsv.tsvs):
            if len(img_tsv) != len(label_tsv):
                raise ValueError(f'{img_tsv.path!r} has {len(img_tsv)} rows but {label_tsv.path!r} has '
                                 f'{len(label_tsv)}; the img and label TSVs must be row-aligned')
        num_items = len(self.label_tsv)
        for source, tsv in enumerate(self.label_tsv.tsvs):
            rows = self.label_tsv.pairs[self.label_tsv.pairs[:, 0] == source, 1]
            if rows.size and (rows.min() < 0 or rows.max() >= len(tsv)):
                raise ValueError(f'{self.ann_file}: line list names row {int(rows.max())} of {tsv.path!r}, '
                                 f'which has {len(tsv)} rows')
        items = np.arange(num_items, dtype=np.int64)
        if self.max_samples is not None:
            items = items[:self.max_samples]
        self.items = items
        if self._dataset_name is None:
            self._dataset_name = str(config.get('dataset_name') or osp.basename(root))
        self._fully_initialized = True

    def load_data_list(self) -> List[dict]:
        """Not used: rows are decoded on demand by :meth:`get_data_info`."""
        return []

    @property
    def dataset_name(self) -> str:
        if not self._fully_initialized:
            self.full_init()
        return self._dataset_name

    @_loaded
    def __len__(self) -> int:
        return int(self.items.shape[0])

    @_loaded
    def get_data_info(self, idx: int) -> Dict[str, Any]:
        """Decode item ``idx`` (image + labels) into the dict documented on the class."""
        num_items = len(self)
        if not -num_items <= idx < num_items:
            raise IndexError(f'index {idx} is out of range for {self.__class__.__name__} with {num_items} items')
        idx = idx % num_items
        item = int(self.items[idx])
        img_file, img_row = self.img_tsv.locate(item)
        label_file, label_row = self.label_tsv.locate(item)
        img_columns = img_file.seek(img_row)
        label_columns = label_file.seek(label_row)
        if len(img_columns) < 2:
            raise RowError(img_file.path, img_row, 'img', 'expected "key<TAB>base64", found one column')
        if len(label_columns) < 2:
            raise RowError(label_file.path, label_row, 'label', 'expected "key<TAB>json", found one column')
        if img_columns[0] != label_columns[0]:
            raise RowError(
                label_file.path, label_row, 'key', f'label key {label_columns[0]!r} differs from the '
                f'image key {img_columns[0]!r} of {img_file.path!r} row {img_row}; TSVs are not aligned')
        img = decode_image(img_columns[-1], img_file.path, img_row)
        ann = decode_label(label_columns[-1], label_file.path, label_row, self.num_joints, self.num_pose_params)
        key = self.img_tsv.get_key(item) if self._composite else img_columns[0]
        return self._make_item(idx, key, img, ann)

    def _make_item(self, idx: int, key: str, img: np.ndarray, ann: dict) -> Dict[str, Any]:
        # float64 box (see decode_label): the official crop mode truncates its corners like the official float64 code
        side = 200.0 * float(ann['scale'])
        center = ann['center'].reshape(1, 2).astype(np.float64)
        joints_2d, joints_3d = ann['2d_joints'], ann['3d_joints']
        return dict(
            img=img,
            img_path=key,
            img_id=idx,
            id=idx,
            sample_idx=idx,
            ori_shape=img.shape[:2],
            img_shape=img.shape[:2],
            bbox_center=center,
            bbox_scale=np.full((1, 2), side, dtype=np.float64),
            bbox=np.concatenate([center - side / 2, center + side / 2], axis=1).astype(np.float32),
            bbox_score=np.ones((1, ), dtype=np.float32),
            keypoints=joints_2d[None, :, :2].copy(),
            # the label's confidences; MeshTopdownAffine decides how has_2d_joints applies
            keypoints_visible=joints_2d[None, :, 2].astype(np.float32),
            keypoints_3d=joints_3d[None].copy(),
            smpl_pose=ann['pose'].copy(),
            smpl_betas=ann['betas'].copy(),
            has_2d_joints=np.float32(ann['has_2d_joints']),
            has_3d_joints=np.float32(ann['has_3d_joints']),
            has_smpl=np.float32(ann['has_smpl']),
            dataset_name=self._dataset_name)

    # ------------------------------------------------------------------ subsets
    @_loaded
    def get_subset_(self, indices: Union[Sequence[int], int]) -> None:
        """Keep only ``indices`` (a list of item indices, or the first/last ``n`` items for an int)."""
        if isinstance(indices, int):
            self.items = self.items[:indices] if indices >= 0 else self.items[indices:]
        else:
            self.items = self.items[np.asarray(indices, dtype=np.int64)]

    @_loaded
    def get_subset(self, indices: Union[Sequence[int], int]) -> 'MeshTSVDataset':
        subset = copy.copy(self)
        subset.items = self.items.copy()
        subset.get_subset_(indices)
        return subset

    def __repr__(self) -> str:
        length = len(self) if self._fully_initialized else 'not loaded'
        return f'{self.__class__.__name__}(ann_file={self.ann_file!r}, items={length})'


@DATASETS.register_module()
class HandMeshTSVDataset(MeshTSVDataset):
    """:class:`MeshTSVDataset` for METRO's FreiHAND TSV/YAML layout (``freihand/train.yaml``, ``freihand/test.yaml``):
    21 label joints (FreiHAND order, rooted at the wrist), 48 MANO pose values and 10 betas per row (``has_smpl``
    flags the MANO parameters); keypoint meta information of the 21 hand joints the hand model predicts."""

    METAINFO: dict = HAND21_METAINFO

    def __init__(self, *args, num_joints: int = 21, num_pose_params: int = 48, **kwargs) -> None:
        super().__init__(*args, num_joints=num_joints, num_pose_params=num_pose_params, **kwargs)
