"""Synthetic mesh dataset in the METRO TSV/YAML format, rendered from a mesh model (the embedded body by default).

Every sample: a random plausible pose/shape posed by the mesh model, placed in front of a pinhole camera, rendered
shaded over a random background (:mod:`.backgrounds`). For the default SMPL body the parameters come from
:mod:`.pose_sampler` (turned at most ``max_turn`` degrees away from facing the camera) and the labels follow official
behaviour §6.2:
J24 3D joints in metres (camera frame) filled from the mesh's H36M-17 joints through ``joints.J24_FROM_H36M``
(confidence 1 there, 0 elsewhere), 2D joints = their projection (pixel ``i`` spans ``[i, i + 1)``), ``center`` /
``scale`` from the projected mesh box (``scale = 1.2 * max side / 200``), pose/betas with ``has_smpl = 1``. Any other
mesh model works the same way through its ``keypoints`` / ``root_keypoint`` / ``num_label_joints`` /
``label_from_keypoints``, with a ``parameter_sampler`` for its pose space (hands: :mod:`.hand_sampler`, FreiHAND
labels: the 21 joints, MANO pose and betas).

Samples are deterministic per ``(seed, split, index)``, independent of batch size and of the other samples.
"""
import json
import os
import os.path as osp
import zlib
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import yaml

from pointhmr.utils.arrays import to_numpy
from pointhmr.visualization.renderer import project_perspective, render_mesh
from ..mesh_tsv_format import encode_image, encode_label
from ..tsv_file import write_tsv
from .backgrounds import BACKGROUND_STYLES, random_background
from .pose_sampler import DEFAULT_MAX_TURN, sample_smpl_parameters


@dataclass
class SyntheticCameraConfig:
    """Image and camera ranges of the synthetic samples."""
    image_size: int = 256
    #: focal length as a multiple of the image size
    focal_range: Sequence[float] = (1.6, 2.4)
    #: projected body height (vertical mesh extent) as a fraction of the image size
    height_fraction: Sequence[float] = (0.5, 0.85)
    #: pelvis offset from the image centre as a fraction of the image size
    max_center_offset: float = 0.12
    #: enlargement of the projected mesh box for the label's scale (3DPW convention)
    box_padding: float = 1.2
    jpeg_quality: int = 90
    #: mesh extent that ``height_fraction`` refers to: 'height' (vertical extent, bodies) or 'max_side' (the larger of
    #: the horizontal and vertical extents: hands, which appear in any orientation)
    size_by: str = 'height'
    #: lower bound of that extent in metres (keeps crouched bodies from filling the image)
    min_extent: float = 0.3
    #: nearest allowed distance between the camera plane and the closest vertex, metres
    min_clearance: float = 0.5
    #: what ``max_center_offset`` is measured from: 'root' (the root keypoint: the pelvis of bodies) or 'mesh' (the
    #: centre of the mesh's x / y extent: hands, whose root, the wrist, lies at one end)
    center_on: str = 'root'


#: ``(rng) -> (pose (P,), betas (10,))`` for one sample
ParameterSampler = Callable[[np.random.Generator], Tuple[np.ndarray, np.ndarray]]


@dataclass
class SyntheticSample:
    """One generated sample before encoding."""
    key: str
    image: np.ndarray
    annotation: Dict
    mask: np.ndarray


def split_seed(seed: int, split: str) -> List[int]:
    """Entropy for a split's random streams (stable across runs and Python versions)."""
    return [int(seed), zlib.crc32(split.encode('utf-8'))]


def default_body():
    """The embedded synthetic SMPL body (``SMPLBodyModel()`` without arguments)."""
    from pointhmr.body.smpl_layer import SMPLBodyModel
    return SMPLBodyModel()


def _faces(body) -> np.ndarray:
    return to_numpy(body.faces, np.int64)


def _skinning_weights(body) -> Optional[np.ndarray]:
    """(V, J) linear-blend-skinning weights of the mesh model's skinning layer (any submodule with ``lbs_weights``,
    e.g. smplx's SMPL / MANO layers), or None."""
    modules = body.modules() if hasattr(body, 'modules') else [body]
    return next((m.lbs_weights for m in modules if getattr(m, 'lbs_weights', None) is not None), None)


def _part_face_colors(body, faces: np.ndarray) -> Optional[np.ndarray]:
    """(F, 3) r, g, b in [0, 1]: one distinct colour per body part (the joint with the largest skinning weight of a
    face's first vertex), a stand-in for the clothes / skin / face cues of real photos; ``None`` when the mesh model
    exposes no skinning weights."""
    weights = _skinning_weights(body)
    if weights is None:
        return None
    weights = to_numpy(weights)
    parts = weights.argmax(axis=1)[faces[:, 0]]
    num_parts = weights.shape[1]
    hues = (np.arange(num_parts) * 0.61803398875) % 1.0  # golden-ratio hue steps: neighbouring joints differ
    palette = np.stack([np.clip(np.abs((hues * 6.0 + shift) % 6.0 - 3.0) - 1.0, 0.0, 1.0) for shift in (0.0, 4.0, 2.0)],
                       axis=1)
    palette = 0.25 + 0.75 * palette  # no black parts
    return palette[parts]


def _pose_body(body, poses: np.ndarray, betas: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        vertices = body(torch.as_tensor(poses, dtype=torch.float32), torch.as_tensor(betas, dtype=torch.float32))
    return to_numpy(vertices, np.float64)


def _keypoints(body, vertices: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        joints = body.keypoints(torch.as_tensor(vertices, dtype=torch.float32))
    return to_numpy(joints, np.float64)


class SyntheticMeshGenerator:
    """Generate synthetic mesh samples and write them as METRO TSV/YAML splits.

    Args:
        body: mesh model (``forward(pose, betas) -> (B, V, 3)``, ``keypoints``, ``root_keypoint``, ``faces``,
            ``num_label_joints``, ``label_from_keypoints``); default = the embedded synthetic body.
        camera: image / camera ranges.
        seed: base seed; each sample uses ``(seed, split, index)``.
        batch_size: bodies posed per forward call (does not change the output).
        max_turn: bodies turn about the vertical axis by up to this many degrees either side of facing the camera
            (default 60; 180 = any direction, nearly front/back ambiguous for the uniformly coloured body).
        part_colors: paint each body part (the joint with the largest skinning weight) in its own colour, mixed with
            a random per-sample tint (default), a stand-in for the clothes / skin cues of real photos: limbs in front of
            the torso and left from right stay distinguishable. ``False``: one random colour for the whole body.
        background: ``'plain'`` (default) or ``'cluttered'`` backgrounds, see :mod:`.backgrounds`. The defaults make
            the set the light CPU config learns from in a few hundred iterations; a uniformly coloured body on
            cluttered backgrounds stayed at the mean-pose level for 800 iterations with the official loss settings
            (the backbone starts untrained).
        parameter_sampler: ``(rng) -> (pose, betas)`` of one sample; default = the SMPL sampler with ``max_turn``
            (:func:`.pose_sampler.sample_smpl_parameters`); hands: :class:`.hand_sampler.HandParameterSampler`.
        dataset_name: written into the split yamls.
    """

    def __init__(self,
                 body=None,
                 camera: Optional[SyntheticCameraConfig] = None,
                 seed: int = 0,
                 batch_size: int = 32,
                 max_turn: float = DEFAULT_MAX_TURN,
                 part_colors: bool = True,
                 background: str = 'plain',
                 parameter_sampler: Optional[ParameterSampler] = None,
                 dataset_name: str = 'synthetic') -> None:
        if not 0.0 <= float(max_turn) <= 180.0:
            raise ValueError(f'SyntheticMeshGenerator: max_turn must be in [0, 180] degrees, got {max_turn}')
        if background not in BACKGROUND_STYLES:
            raise ValueError(f'SyntheticMeshGenerator: unknown background {background!r}; choose one of '
                             f'{BACKGROUND_STYLES}')
        self.background = background
        self.body = body if body is not None else default_body()
        self.camera = camera or SyntheticCameraConfig()
        self.seed = int(seed)
        self.batch_size = max(1, int(batch_size))
        self.max_turn = float(max_turn)
        self.parameter_sampler = parameter_sampler or (lambda rng: sample_smpl_parameters(rng, self.max_turn))
        self.dataset_name = dataset_name
        if self.camera.size_by not in ('height', 'max_side'):
            raise ValueError("SyntheticCameraConfig.size_by must be 'height' or 'max_side', got "
                             f'{self.camera.size_by!r}')
        if self.camera.center_on not in ('root', 'mesh'):
            raise ValueError(f"SyntheticCameraConfig.center_on must be 'root' or 'mesh', got {self.camera.center_on!r}")
        self.faces = _faces(self.body)
        self.face_colors = _part_face_colors(self.body, self.faces) if part_colors else None
        self.part_colors = self.face_colors is not None

    # ------------------------------------------------------------------ samples
    def samples(self, split: str, num_samples: int, start: int = 0) -> Iterator[SyntheticSample]:
        """Yield samples ``start .. start + num_samples - 1`` of ``split``."""
        entropy = split_seed(self.seed, split)
        for first in range(start, start + num_samples, self.batch_size):
            indices = list(range(first, min(first + self.batch_size, start + num_samples)))
            rngs = [np.random.default_rng(entropy + [i]) for i in indices]
            params = [self.parameter_sampler(rng) for rng in rngs]
            poses = np.stack([p for p, _ in params])
            betas = np.stack([b for _, b in params])
            vertices = _pose_body(self.body, poses, betas)
            root = _keypoints(self.body, vertices)[:, self.body.root_keypoint]
            for k, index in enumerate(indices):
                yield self._make_sample(rngs[k], f'{split}/{index:07d}.jpg', poses[k], betas[k], vertices[k] - root[k])

    def _place_camera(self, rng: np.random.Generator, vertices: np.ndarray):
        """Focal length and camera-frame translation putting the root (at the origin) in view."""
        cfg = self.camera
        size = cfg.image_size
        focal = rng.uniform(*cfg.focal_range) * size
        extent = float(np.ptp(vertices[:, 1])) if cfg.size_by == 'height' else float(np.ptp(vertices[:, :2], 0).max())
        extent = max(extent, cfg.min_extent)
        depth = focal * extent / (rng.uniform(*cfg.height_fraction) * size)
        depth = max(depth, float(-vertices[:, 2].min()) + cfg.min_clearance)
        offset = rng.uniform(-cfg.max_center_offset, cfg.max_center_offset, size=2) * size
        translation = np.array([offset[0] * depth / focal, offset[1] * depth / focal, depth])
        if cfg.center_on == 'mesh':
            translation[:2] -= (vertices[:, :2].min(0) + vertices[:, :2].max(0)) / 2.0
        return focal, translation

    def _make_sample(self, rng: np.random.Generator, key: str, pose: np.ndarray, betas: np.ndarray,
                     vertices: np.ndarray) -> SyntheticSample:
        cfg = self.camera
        size = cfg.image_size
        focal, translation = self._place_camera(rng, vertices)
        vertices_cam = vertices + translation
        principal = np.array([size / 2.0, size / 2.0])

        keypoints = _keypoints(self.body, vertices_cam[None])[0]
        keypoints_2d = keypoints[:, :2] / keypoints[:, 2:3] * focal + principal
        num_label_joints = int(self.body.num_label_joints)
        joints_3d = np.zeros((num_label_joints, 4))
        joints_2d = np.zeros((num_label_joints, 3))
        for slot, keypoint in self.body.label_from_keypoints.items():
            joints_3d[slot] = [*keypoints[keypoint], 1.0]
            joints_2d[slot] = [*keypoints_2d[keypoint], 1.0]

        projected = vertices_cam[:, :2] / vertices_cam[:, 2:3] * focal + principal
        low, high = projected.min(0), projected.max(0)
        center = (low + high) / 2.0
        scale = cfg.box_padding * float(np.max(high - low)) / 200.0

        background = random_background(rng, size, size, self.background)
        color = rng.uniform(0.25, 1.0, size=3)
        face_colors = None if self.face_colors is None else 0.6 * self.face_colors + 0.4 * color
        # the renderer puts pixel centres at integer coordinates: shift by half a pixel
        vertices_px = project_perspective(vertices_cam, focal, principal - 0.5)
        image, mask = render_mesh(background,
                                  vertices_px,
                                  self.faces,
                                  color=color,
                                  vertices_3d=vertices_cam,
                                  smooth=False,
                                  face_colors=face_colors)
        annotation = {
            'center': center,
            'scale': scale,
            '2d_joints': joints_2d,
            'has_2d_joints': 1,
            '3d_joints': joints_3d,
            'has_3d_joints': 1,
            'pose': pose,
            'betas': betas,
            'has_smpl': 1,
            'focal_length': focal,
            'cam_t': translation,
        }
        return SyntheticSample(key=key, image=image, annotation=annotation, mask=mask)

    # ------------------------------------------------------------------ writing
    def write_split(self,
                    out_dir: str,
                    split: str,
                    num_samples: int,
                    progress: Optional[Callable[[int, int], None]] = None) -> str:
        """Write ``<split>.{img,hw,label,linelist}.tsv`` (+ ``.lineidx``) and ``<split>.yaml``; return the yaml."""
        os.makedirs(out_dir, exist_ok=True)
        names = {kind: f'{split}.{kind}.tsv' for kind in ('img', 'hw', 'label', 'linelist')}
        hw_rows, label_rows = [], []

        def image_rows():
            # images are streamed to disk; the small hw/label rows are collected on the way
            for i, sample in enumerate(self.samples(split, num_samples)):
                height, width = sample.image.shape[:2]
                hw_rows.append((sample.key, json.dumps([{'height': height, 'width': width}])))
                label_rows.append((sample.key, encode_label(sample.annotation)))
                yield sample.key, encode_image(sample.image, self.camera.jpeg_quality)
                if progress is not None:
                    progress(i + 1, num_samples)

        write_tsv(osp.join(out_dir, names['img']), image_rows())
        write_tsv(osp.join(out_dir, names['hw']), hw_rows)
        write_tsv(osp.join(out_dir, names['label']), label_rows)
        write_tsv(osp.join(out_dir, names['linelist']), [(str(i), ) for i in range(num_samples)])
        config = dict(img=names['img'],
                      hw=names['hw'],
                      label=names['label'],
                      linelist=names['linelist'],
                      dataset_name=self.dataset_name)
        yaml_path = osp.join(out_dir, f'{split}.yaml')
        with open(yaml_path, 'w') as f:
            yaml.safe_dump(config, f, sort_keys=False)
        return yaml_path


def make_synthetic_dataset(out_dir: str,
                           splits: Dict[str, int],
                           seed: int = 0,
                           body=None,
                           camera: Optional[SyntheticCameraConfig] = None,
                           progress: Optional[Callable[[str, int, int], None]] = None,
                           max_turn: float = DEFAULT_MAX_TURN,
                           part_colors: bool = True,
                           background: str = 'plain',
                           parameter_sampler: Optional[ParameterSampler] = None,
                           dataset_name: str = 'synthetic') -> Dict[str, str]:
    """Write every ``split -> number of samples`` to ``out_dir``; return ``split -> yaml path``.

    Also writes ``synthetic_meta.json`` (seed, split sizes, max_turn, part_colors, background, camera ranges, mesh
    type). ``body`` / ``parameter_sampler`` / ``dataset_name``: see :class:`SyntheticMeshGenerator`.
    """
    generator = SyntheticMeshGenerator(body=body,
                                       camera=camera,
                                       seed=seed,
                                       max_turn=max_turn,
                                       part_colors=part_colors,
                                       background=background,
                                       parameter_sampler=parameter_sampler,
                                       dataset_name=dataset_name)
    yamls = {}
    for split, count in splits.items():
        callback = None if progress is None else (lambda done, total, s=split: progress(s, done, total))
        yamls[split] = generator.write_split(out_dir, split, count, callback)
    meta = dict(seed=seed,
                splits=dict(splits),
                max_turn=generator.max_turn,
                part_colors=generator.part_colors,
                background=generator.background,
                camera=asdict(generator.camera),
                mesh_type=getattr(generator.body, 'model_type',
                                  type(generator.body).__name__),
                num_vertices=int(generator.faces.max()) + 1)
    with open(osp.join(out_dir, 'synthetic_meta.json'), 'w') as f:
        json.dump(meta, f, indent=2, default=list)
    return yamls
