"""MANOHandModel: MANO pose / shape -> right-hand mesh (smplx MANO layer), 21 FreiHAND-order keypoints, mesh sampler.

Conventions follow the official METRO / PointHMR hand wrapper: full 45-D articulated pose (no PCA), the MANO mean pose
added to the input (``flat_hand_mean=False``), 21 keypoints = the 16 MANO joints regressed from the posed vertices plus
5 fingertip vertices, in FreiHAND order, rooted at the wrist. Output in metres.
"""
import contextlib
import io
import os
from typing import List, Optional, Sequence

import numpy as np
import smplx
import torch
from mmpose.registry import MODELS
from torch import nn

from ..utils.typing import PathLike
from .joints import HAND21_NAMES, HAND21_ROOT, MANO21_TO_HAND21, NUM_HAND21, NUM_MANO_JOINTS
from .mesh_sampler import MeshSampler
from .safe_pickle import load_smpl_pickle
from .smpl_layer import _freeze_buffers, resolve_companion, skin_layer
from .synthetic_hand import default_hand_files

#: file names searched for inside a ``model_path`` folder (also in its ``mano/`` and ``models/`` sub-folders)
MANO_FILE_NAMES: List[str] = ['MANO_RIGHT.pkl']
MANO_SAMPLER_FILE_NAMES: List[str] = ['mano_downsampling.npz', 'mano_downsampling_coo.npz']
#: fingertip vertices of the real MANO right hand (thumb, index, middle, ring, pinky). The middle tip is 445 as in the
#: official METRO / PointHMR hand code (inherited from I2L-MeshNet), so keypoints and FreiHAND numbers match theirs;
#: manopth's right-hand convention is 444 (the vertex next to it), pass ``fingertip_vertex_ids`` to use that.
MANO_FINGERTIP_VERTEX_IDS = (745, 317, 445, 556, 673)
MANO_KEYS = ('v_template', 'shapedirs', 'posedirs', 'J_regressor', 'weights', 'kintree_table', 'f', 'hands_components',
             'hands_mean')
_DOWNLOAD_HINT = ('Download the MANO model from mano.is.tue.mpg.de (free registration required; the file is '
                  'mano_v1_2/models/MANO_RIGHT.pkl) and point model_path to it, or leave model_path=None to use the '
                  'embedded synthetic hand.')


def _resolve_model_file(model_path: PathLike) -> str:
    path = os.fspath(model_path)
    if os.path.isdir(path):
        for folder in (path, os.path.join(path, 'mano'), os.path.join(path, 'models')):
            for name in MANO_FILE_NAMES:
                candidate = os.path.join(folder, name)
                if os.path.isfile(candidate):
                    return candidate
        raise FileNotFoundError(f'no MANO right-hand model ({" / ".join(MANO_FILE_NAMES)}) found in folder {path}. '
                                f'{_DOWNLOAD_HINT}')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'MANO model file not found: {path}. {_DOWNLOAD_HINT}')
    return path


@MODELS.register_module()
class MANOHandModel(nn.Module):
    """MANO-format right-hand model with 21 FreiHAND-order keypoints and the 778 / 195 (/ 49 / 13 / 4) mesh sampler.

    Args:
        model_path: MANO ``MANO_RIGHT.pkl`` or a folder holding it (also ``<folder>/mano/`` or ``<folder>/models/``).
            Read with the restricted unpickler (chumpy arrays become numpy, no code runs). None = the embedded
            synthetic hand (then ``mesh_sampler_path`` defaults to its file as well).
        mesh_sampler_path: METRO ``mano_downsampling.npz`` or our pickle-free ``.npz``. None = the synthetic one, or a
            file next to a given ``model_path``.
        flat_hand_mean: False (official): axis-angle poses are relative to MANO's mean hand pose (``hands_mean`` is
            added); True: relative to the flat hand.
        fingertip_vertex_ids: thumb, index, middle, ring and pinky tip vertices. None = the ids stored in the model
            file (the synthetic hand stores its own), else :data:`MANO_FINGERTIP_VERTEX_IDS`.

    Nothing here is trainable or stored in checkpoints: all arrays are non-persistent buffers.
    """

    model_type = 'mano'
    token_level = 1
    vertex_levels = (1, 0)
    root_keypoint = HAND21_ROOT
    num_pose_params = 3 * NUM_MANO_JOINTS
    keypoint_names = HAND21_NAMES
    #: root of the dataset label joints (FreiHAND labels: the wrist)
    label_root_index = HAND21_ROOT
    #: joints whose mean is the origin of the 3D joint loss and of MPJPE: the wrist (FreiHAND's root alignment)
    joint_center_indices = (HAND21_ROOT, )
    #: label joints per sample (the 21 keypoints, FreiHAND order) filled one to one from the keypoints
    num_label_joints = NUM_HAND21
    label_from_keypoints = {i: i for i in range(NUM_HAND21)}

    def __init__(self,
                 model_path: Optional[PathLike] = None,
                 mesh_sampler_path: Optional[PathLike] = None,
                 flat_hand_mean: bool = False,
                 fingertip_vertex_ids: Optional[Sequence[int]] = None):
        super().__init__()
        if model_path is None:
            defaults = default_hand_files()
            model_file = defaults['model_path']
            mesh_sampler_path = mesh_sampler_path or defaults['mesh_sampler_path']
        else:
            model_file = _resolve_model_file(model_path)
        sampler_file = resolve_companion(mesh_sampler_path, model_file, MANO_SAMPLER_FILE_NAMES,
                                         'MANO mesh down-sampling file', 'mesh_sampler_path')
        self.model_file = model_file
        self.flat_hand_mean = bool(flat_hand_mean)

        data = load_smpl_pickle(model_file)
        missing = [k for k in MANO_KEYS if k not in data]
        if missing:
            raise KeyError(f'{model_file}: not a MANO model file, missing keys {missing}')
        if np.asarray(data['kintree_table']).shape != (2, NUM_MANO_JOINTS):
            raise ValueError(f'{model_file}: kintree_table has shape {np.asarray(data["kintree_table"]).shape}, '
                             f'a MANO hand has (2, {NUM_MANO_JOINTS}); is this an SMPL body file?')
        with contextlib.redirect_stdout(io.StringIO()):  # smplx prints notes about the number of shape coefficients
            self.mano = smplx.MANO(model_path=model_file,
                                   data_struct=smplx.utils.Struct(**data),
                                   is_rhand=True,
                                   use_pca=False,
                                   flat_hand_mean=self.flat_hand_mean,
                                   num_betas=10,
                                   create_hand_pose=False,
                                   create_body_pose=False,
                                   create_betas=False,
                                   create_global_orient=False,
                                   create_transl=False)
        self.num_vertices = int(self.mano.v_template.shape[0])
        self.faces = np.asarray(data['f'], dtype=np.int64)

        if fingertip_vertex_ids is None:
            fingertip_vertex_ids = data.get('fingertip_vertex_ids', MANO_FINGERTIP_VERTEX_IDS)
        tips = np.asarray(fingertip_vertex_ids, dtype=np.int64).reshape(-1)
        if tips.shape != (5, ) or tips.min() < 0 or tips.max() >= self.num_vertices:
            raise ValueError(f'fingertip_vertex_ids must be 5 vertex indices in [0, {self.num_vertices}), got '
                             f'{fingertip_vertex_ids}')
        self.fingertip_vertex_ids = tuple(int(t) for t in tips)
        onehot = torch.zeros(5, self.num_vertices, dtype=self.mano.J_regressor.dtype)
        onehot[torch.arange(5), torch.from_numpy(tips)] = 1.0
        regressor = torch.cat([self.mano.J_regressor, onehot])[MANO21_TO_HAND21]
        self.register_buffer('keypoint_regressor', regressor.contiguous())

        self.sampler = MeshSampler.from_file(sampler_file)
        if self.sampler.num_vertices[0] != self.num_vertices or self.sampler.num_levels < 2:
            raise ValueError(f'{sampler_file}: mesh sampler levels {self.sampler.num_vertices} do not fit the hand '
                             f'model {model_file} with {self.num_vertices} vertices (need [{self.num_vertices}, 195, '
                             '...]); use matching files')
        _freeze_buffers(self)

    # ------------------------------------------------------------------ mesh-model interface
    @property
    def num_betas(self) -> int:
        return int(self.mano.shapedirs.shape[-1])

    @property
    def num_joints(self) -> int:
        return len(self.joint_indices)

    @property
    def joint_indices(self) -> List[int]:
        """Keypoint -> joint-token / evaluation joint set (identity: the 21 keypoints)."""
        return list(range(NUM_HAND21))

    @property
    def label_joint_indices(self) -> List[int]:
        """Dataset label joints (21, FreiHAND order) -> joint-token / evaluation joint set (identity)."""
        return list(range(NUM_HAND21))

    @property
    def hand_mean(self) -> torch.Tensor:
        """``(45,)`` pose added to axis-angle inputs (MANO ``hands_mean``, or zeros with ``flat_hand_mean=True``)."""
        return self.mano.pose_mean[3:]

    def _skin(self, pose: torch.Tensor, betas: torch.Tensor):
        return skin_layer(self.mano,
                          pose,
                          betas,
                          num_joints=NUM_MANO_JOINTS,
                          num_betas=self.num_betas,
                          pose_offset=self.mano.pose_mean)

    def forward(self, pose: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """Vertices ``(B, 778, 3)`` in metres (no translation).

        Args:
            pose: ``(B, 48)`` axis-angle (global orientation + 15 finger joints, relative to the mean hand unless
                ``flat_hand_mean``) or ``(B, 16, 3, 3)`` rotation matrices (absolute joint rotations: no mean added).
            betas: ``(B, <= 10)`` shape coefficients.
        """
        return self._skin(pose, betas)[0]

    def mano_joints(self, pose: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """The 16 posed MANO kinematic joints ``(B, 16, 3)`` (same inputs as :meth:`forward`)."""
        return self._skin(pose, betas)[1]

    def _check_vertices(self, vertices: torch.Tensor) -> None:
        if vertices.dim() != 3 or vertices.shape[1:] != (self.num_vertices, 3):
            raise ValueError(f'vertices must be (B, {self.num_vertices}, 3), got {tuple(vertices.shape)}')

    def keypoints(self, vertices: torch.Tensor) -> torch.Tensor:
        """The 21 hand keypoints ``(B, 21, 3)`` in FreiHAND order from vertices ``(B, 778, 3)``."""
        self._check_vertices(vertices)
        return torch.einsum('kv,bvc->bkc', self.keypoint_regressor.to(vertices.dtype), vertices)

    def center(self, vertices: torch.Tensor) -> torch.Tensor:
        """Vertices minus the root keypoint (the wrist): the wrist-centred mesh."""
        self._check_vertices(vertices)
        root = self.keypoint_regressor[self.root_keypoint].to(vertices.dtype)
        return vertices - torch.einsum('v,bvc->bc', root, vertices)[:, None]

    def rest_joints(self, betas: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The 16 MANO joints ``(16, 3)`` of the unposed hand (mean shape, or ``betas (10,)``)."""
        template = self.mano.v_template
        if betas is not None:
            betas = betas.reshape(-1).to(template.dtype)
            template = template + torch.einsum('vck,k->vc', self.mano.shapedirs[:, :, :len(betas)], betas)
        return self.mano.J_regressor @ template

    def extra_repr(self) -> str:
        return (f'model_file={self.model_file!r}, num_vertices={self.num_vertices}, '
                f'flat_hand_mean={self.flat_hand_mean}, fingertip_vertex_ids={self.fingertip_vertex_ids}')
