"""Fitted mesh-model parameters in the result files, and animation-ready parameter files (SMPL / MANO convention).

:func:`add_fitted_params` runs :func:`pointhmr.apis.fit_body_params` on the predicted vertices of every person of a
results dict and adds the per-person arrays below. :func:`animation_params` / :func:`save_animation_params` turn one
person (or one track) into the parameter file animation tools read.

Added result fields (float32, one row per person; NaN rows for people whose vertices are not finite):

* ``global_orient`` (P, 3) and ``body_pose`` (P, 69) axis-angle (``hand_pose`` (P, 45) for MANO), ``betas`` (P, 10);
* ``transl`` (P, 3): translation that puts the model's mesh onto the predicted, pelvis-centred vertices;
* ``camera_translation`` (P, 3) (when the image size is known): where that pelvis-centred mesh sits in the camera
  frame under the nominal pinhole camera the renderer uses, so ``model(pose, betas) + transl + camera_translation``
  is the person in camera coordinates (x right, y down, z forward, metres);
* ``fit_vertex_error`` (P,): mean distance (mm) between the fitted and the predicted mesh.
"""
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from pointhmr.utils.arrays import to_numpy
from pointhmr.visualization.scene import person_translations
from .param_fitting import fit_body_params, model_type_of, pose_key_of


def param_keys(mesh_model: nn.Module) -> tuple:
    """Names of the parameter arrays in results and animation files, e.g. ('global_orient', 'body_pose', 'betas',
    'transl')."""
    return 'global_orient', pose_key_of(mesh_model), 'betas', 'transl'


def add_fitted_params(results: Dict[str, np.ndarray],
                      mesh_model: nn.Module,
                      image_shape: Optional[Sequence[int]] = None,
                      **fit_kwargs) -> Dict[str, np.ndarray]:
    """A copy of ``results`` with the fitted parameters of every person (see the module docstring)."""
    vertices = np.asarray(results['vertices'], dtype=np.float32)
    num = len(vertices)
    finite = np.isfinite(vertices).all(axis=(1, 2))
    keys = param_keys(mesh_model)
    fitted = fit_body_params(torch.from_numpy(vertices[finite]), mesh_model, **fit_kwargs)
    fitted[keys[1]] = fitted.pop('body_pose')
    out = dict(results)
    for key in (*keys, 'vertex_error'):
        value = to_numpy(fitted[key], np.float32)
        column = np.full((num, ) + value.shape[1:], np.nan, dtype=np.float32)
        column[finite] = value
        out['fit_vertex_error' if key == 'vertex_error' else key] = column
    if image_shape is not None:
        out['camera_translation'] = (np.zeros((0, 3), np.float32) if num == 0 else person_translations(
            results['mesh_cameras'], results['input_centers'], results['input_scales'], image_shape).astype(np.float32))
    return out


def animation_params(params: Dict[str, np.ndarray],
                     mesh_model: nn.Module,
                     frame_indices: Optional[np.ndarray] = None,
                     fps: Optional[float] = None) -> Dict[str, np.ndarray]:
    """Animation-ready arrays of ONE person: rows ``(3,)`` etc. for an image, ``(T, 3)`` etc. for a track.

    For a track (``frame_indices`` given) the betas are the mean over the frames (one body shape per person, as in
    AMASS-style motion files) and ``frame_indices`` / ``fps`` are stored too. ``model_type`` ('smpl' / 'mano') and
    ``gender`` (of the model files; the synthetic body is 'neutral') say which model the parameters drive.
    """
    out = {key: np.asarray(params[key], dtype=np.float32) for key in param_keys(mesh_model)}
    if 'camera_translation' in params:
        out['camera_translation'] = np.asarray(params['camera_translation'], dtype=np.float32)
    if frame_indices is not None:
        out['betas'] = np.nanmean(out['betas'].reshape(len(frame_indices), -1), axis=0).astype(np.float32)
        out['frame_indices'] = np.asarray(frame_indices, dtype=np.int64)
        if fps is not None:
            out['fps'] = np.asarray(float(fps))
    out['model_type'] = np.asarray(model_type_of(mesh_model))
    out['gender'] = np.asarray(str(getattr(getattr(mesh_model, 'smpl', None), 'gender', 'neutral')))
    return out


def save_animation_params(path: Union[str, Path], params: Dict[str, np.ndarray]) -> Path:
    """Write :func:`animation_params` output as ``.npz`` (atomic; loads with ``allow_pickle=False``)."""
    from pointhmr.visualization import save_results_npz
    return save_results_npz(path, params)
