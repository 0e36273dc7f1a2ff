"""SMPLBodyModel: pose / shape -> mesh vertices (smplx linear blend skinning), H36M joints and the mesh sampler."""
import contextlib
import io
import os
from typing import Dict, List, Optional

import numpy as np
import smplx
import torch
from mmpose.registry import MODELS
from smplx.lbs import lbs
from torch import nn

from ..utils.typing import PathLike
from .mesh_model import SMPLMeshInterface
from .mesh_sampler import MeshSampler
from .safe_pickle import load_npy, load_smpl_pickle
from .synthetic_body import default_body_files

#: file names searched for inside a ``model_path`` folder, per gender
SMPL_FILE_NAMES: Dict[str, List[str]] = {
    'neutral': ['SMPL_NEUTRAL.pkl', 'basicModel_neutral_lbs_10_207_0_v1.0.0.pkl'],
    'male': ['SMPL_MALE.pkl', 'basicmodel_m_lbs_10_207_0_v1.0.0.pkl', 'basicModel_m_lbs_10_207_0_v1.0.0.pkl'],
    'female': ['SMPL_FEMALE.pkl', 'basicModel_f_lbs_10_207_0_v1.0.0.pkl'],
}
H36M_REGRESSOR_FILE_NAMES = ['J_regressor_h36m_correct.npy', 'J_regressor_h36m.npy']
MESH_SAMPLER_FILE_NAMES = ['mesh_downsampling.npz', 'mesh_downsampling_coo.npz']
_DOWNLOAD_HINT = ('Download the SMPL model from the SMPL / SMPLify website (free registration required) and point '
                  'model_path to it, or leave model_path=None to use the embedded synthetic body.')


def _resolve_model_file(model_path: PathLike, gender: str) -> str:
    path = os.fspath(model_path)
    if os.path.isdir(path):
        for folder in (path, os.path.join(path, 'smpl')):
            for name in SMPL_FILE_NAMES[gender]:
                candidate = os.path.join(folder, name)
                if os.path.isfile(candidate):
                    return candidate
        raise FileNotFoundError(f'no {gender} SMPL model ({" / ".join(SMPL_FILE_NAMES[gender])}) found in folder '
                                f'{path}. {_DOWNLOAD_HINT}')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'SMPL model file not found: {path}. {_DOWNLOAD_HINT}')
    return path


def resolve_companion(path: Optional[PathLike], model_file: str, names: List[str], what: str, arg: str) -> str:
    """``path`` if given, else a file named like ``names`` next to the (SMPL or MANO) model file."""
    if path is not None:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'{what} not found: {path} (argument {arg})')
        return path
    folder = os.path.dirname(os.path.abspath(model_file))
    for name in names:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError(f'{arg} is None and no {what} ({" / ".join(names)}) lies next to {model_file}; pass {arg} '
                            '(METRO / PointHMR ship it in src/modeling/data/) or leave model_path=None too to use the '
                            'embedded synthetic model.')


def _freeze_buffers(module: nn.Module) -> None:
    """Keep every buffer of ``module`` (and its children) out of ``state_dict``: fixed data, not model state."""
    for child in module.modules():
        child._non_persistent_buffers_set.update(child._buffers.keys())


def skin_layer(layer: nn.Module,
               pose: torch.Tensor,
               betas: torch.Tensor,
               num_joints: int,
               num_betas: int,
               pose_offset: Optional[torch.Tensor] = None):
    """Check ``pose`` / ``betas`` and run smplx's linear blend skinning with the arrays of an smplx ``layer``
    (SMPL or MANO) -> (vertices (B, V, 3), joints (B, num_joints, 3)).

    ``pose`` is ``(B, 3 * num_joints)`` axis-angle (``pose_offset`` added, e.g. MANO's mean hand) or
    ``(B, num_joints, 3, 3)`` rotation matrices (used as they are); ``betas`` is ``(B, <= num_betas)``.
    """
    if pose.dim() == 4 and pose.shape[1:] == (num_joints, 3, 3):
        pose2rot = False
    elif pose.dim() == 2 and pose.shape[1] == 3 * num_joints:
        pose2rot = True
    else:
        raise ValueError(f'pose must be (B, {3 * num_joints}) axis-angle or (B, {num_joints}, 3, 3) rotation matrices, '
                         f'got {tuple(pose.shape)}')
    if betas.dim() != 2 or betas.shape[0] != pose.shape[0] or betas.shape[1] > num_betas:
        raise ValueError(f'betas must be (B, <= {num_betas}) with B = {pose.shape[0]}, got {tuple(betas.shape)}')
    dtype = pose.dtype if pose.is_floating_point() else torch.float32
    pose = pose.to(dtype)
    if pose2rot and pose_offset is not None:
        pose = pose + pose_offset.to(dtype)
    return lbs(betas.to(dtype),
               pose,
               layer.v_template.to(dtype),
               layer.shapedirs[:, :, :betas.shape[1]].to(dtype),
               layer.posedirs.to(dtype),
               layer.J_regressor.to(dtype),
               layer.parents,
               layer.lbs_weights.to(dtype),
               pose2rot=pose2rot)


@MODELS.register_module()
class SMPLBodyModel(SMPLMeshInterface, nn.Module):
    """SMPL-format body model with the H36M-17 regressor and the 6890 / 1723 / 431 mesh sampler.

    Args:
        model_path: SMPL ``.pkl`` file or a folder holding ``SMPL_NEUTRAL.pkl`` /
            ``basicModel_neutral_lbs_10_207_0_v1.0.0.pkl`` (or ``<folder>/smpl/...``). None = the embedded synthetic
            body (then the two paths below default to the synthetic files as well).
        h36m_regressor_path: ``(17, V)`` ``.npy`` regressor (``J_regressor_h36m_correct.npy``). None = synthetic one,
            or a file next to a given ``model_path``.
        mesh_sampler_path: METRO ``mesh_downsampling.npz`` or our pickle-free ``.npz``. None as above.
        gender: 'neutral', 'male' or 'female' (used to pick the file inside a ``model_path`` folder).

    Nothing here is trainable or stored in checkpoints: all arrays are non-persistent buffers. The generic
    mesh-model names (``keypoints``, ``center``, ``joint_indices``, ``token_level``, ...) come from
    :class:`~pointhmr.body.mesh_model.SMPLMeshInterface`.
    """

    def __init__(self,
                 model_path: Optional[PathLike] = None,
                 h36m_regressor_path: Optional[PathLike] = None,
                 mesh_sampler_path: Optional[PathLike] = None,
                 gender: str = 'neutral'):
        super().__init__()
        if gender not in SMPL_FILE_NAMES:
            raise ValueError(f'gender must be one of {sorted(SMPL_FILE_NAMES)}, got {gender!r}')
        if model_path is None:
            defaults = default_body_files()
            model_file = defaults['model_path']
            h36m_regressor_path = h36m_regressor_path or defaults['h36m_regressor_path']
            mesh_sampler_path = mesh_sampler_path or defaults['mesh_sampler_path']
        else:
            model_file = _resolve_model_file(model_path, gender)
        regressor_file = resolve_companion(h36m_regressor_path, model_file, H36M_REGRESSOR_FILE_NAMES,
                                           'H36M joint regressor', 'h36m_regressor_path')
        sampler_file = resolve_companion(mesh_sampler_path, model_file, MESH_SAMPLER_FILE_NAMES,
                                         'mesh down-sampling file', 'mesh_sampler_path')
        self.model_file = model_file

        data = load_smpl_pickle(model_file)
        missing = [
            k for k in ('v_template', 'shapedirs', 'posedirs', 'J_regressor', 'weights', 'kintree_table', 'f')
            if k not in data
        ]
        if missing:
            raise KeyError(f'{model_file}: not an SMPL model file, missing keys {missing}')
        with contextlib.redirect_stdout(io.StringIO()):  # smplx prints a warning about 10 shape coefficients
            self.smpl = smplx.SMPL(model_path=model_file,
                                   data_struct=smplx.utils.Struct(**data),
                                   num_betas=10,
                                   create_betas=False,
                                   create_global_orient=False,
                                   create_body_pose=False,
                                   create_transl=False,
                                   gender=gender)
        self.num_vertices = int(self.smpl.v_template.shape[0])
        self.faces = np.asarray(data['f'], dtype=np.int64)

        regressor = load_npy(regressor_file, 'H36M joint regressor')
        if regressor.ndim != 2 or regressor.shape != (17, self.num_vertices):
            raise ValueError(f'{regressor_file}: expected an H36M regressor of shape (17, {self.num_vertices}), got '
                             f'{regressor.shape}')
        self.register_buffer('h36m_regressor', torch.from_numpy(regressor).float())
        self.sampler = MeshSampler.from_file(sampler_file)
        if self.sampler.num_vertices[0] != self.num_vertices:
            raise ValueError(f'{sampler_file}: mesh sampler level 0 has {self.sampler.num_vertices[0]} vertices but '
                             f'the body model {model_file} has {self.num_vertices}; use matching files')
        _freeze_buffers(self)

    @property
    def num_betas(self) -> int:
        return int(self.smpl.shapedirs.shape[-1])

    def _skin(self, pose: torch.Tensor, betas: torch.Tensor):
        return skin_layer(self.smpl, pose, betas, num_joints=24, num_betas=self.num_betas)

    def forward(self, pose: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """Vertices ``(B, V, 3)`` in metres (no translation) from axis-angle ``pose (B, 72)`` or rotation matrices
        ``(B, 24, 3, 3)``, and ``betas (B, 10)``."""
        return self._skin(pose, betas)[0]

    def smpl_joints(self, pose: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """The 24 posed SMPL kinematic joints ``(B, 24, 3)`` (same inputs as :meth:`forward`)."""
        return self._skin(pose, betas)[1]

    def h36m_joints(self, vertices: torch.Tensor) -> torch.Tensor:
        """H36M-17 joints ``(B, 17, 3)`` regressed from vertices ``(B, V, 3)``."""
        if vertices.dim() != 3 or vertices.shape[1] != self.num_vertices:
            raise ValueError(f'vertices must be (B, {self.num_vertices}, 3), got {tuple(vertices.shape)}')
        return torch.einsum('jv,bvc->bjc', self.h36m_regressor.to(vertices.dtype), vertices)

    def extra_repr(self) -> str:
        return f'model_file={self.model_file!r}, num_vertices={self.num_vertices}'
