"""Fixes for the pinned OpenMMLab stack, each for one exact library version (see docs/security.md).

Applied on ``import pointhmr``; a patch applies only when the library version it was written for is installed
(otherwise it is skipped with a warning, so an upgrade is re-checked instead of silently patched). Each patch has a
test that fails when the patch is removed or when the library no longer needs it (tests/test_compat.py).

* ``torchvision_shim`` (mmpose 1.3.2): ``mmpose.visualization`` imports torchvision only for ``SimCCVisualizer``;
  PyPI's torchvision does not load beside CPU torch, so a stand-in module is registered when torchvision is absent
  (only SimCC heatmap drawing is lost).
* ``numpy_weights_only`` (torch 2.13.0): ``torch.load`` is weights-only by default (since 2.6) and its allow-list has no
  numpy types, but mmengine checkpoints hold numpy arrays, dtypes and scalars (message hub, dataset meta). These
  data types (no functions) are added to the allow-list. ``builtins.getattr`` is never added: the one place it is
  needed (mmengine's pickled ``HistoryBuffer`` methods) is handled per load by ``pointhmr.engine.checkpoint_io``.
* ``circle_radius`` (mmpose 1.3.2): mmpose's keypoint drawing passes ``radius=np.array([r])`` to ``cv2.circle``,
  which numpy >= 2.4 arrays no longer convert implicitly; single radii are unwrapped.

The CPU ``torch.cuda.set_device`` no-op that distributed CPU runs need lives in the launcher code
(:func:`pointhmr.utils.runtime.allow_cpu_distributed`), not here.
"""
import importlib.metadata
import importlib.util
import sys
import types
import warnings
from typing import Callable, Dict, Tuple

import numpy as np
import torch

_APPLIED = False
# mmengine / mmcv import pkg_resources (kept by the setuptools<81 pin); its deprecation notice is noise for users
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)


def installed_version(package: str) -> str:
    """Installed version of ``package`` without local suffix (``'2.13.0+cpu'`` -> ``'2.13.0'``); '' when absent."""
    try:
        return importlib.metadata.version(package).split('+')[0]
    except importlib.metadata.PackageNotFoundError:
        return ''


def _install_torchvision_shim() -> None:
    if importlib.util.find_spec('torchvision') is not None or 'mmpose.visualization.simcc_vis' in sys.modules:
        return
    module = types.ModuleType('mmpose.visualization.simcc_vis')

    class SimCCVisualizer:
        """Placeholder: drawing SimCC heatmaps needs torchvision, which is not installed."""

        def __init__(self, *args, **kwargs):
            raise ImportError('SimCCVisualizer needs torchvision, which is not installed')

    module.SimCCVisualizer = SimCCVisualizer
    sys.modules['mmpose.visualization.simcc_vis'] = module


def numpy_safe_globals() -> list:
    """The numpy data types mmengine checkpoints contain (arrays, dtypes, scalars); no callables that run code."""
    safe = [np.ndarray, np.dtype, np._core.multiarray.scalar, np._core.multiarray._reconstruct]
    safe += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return safe


def _allow_numpy_in_weights_only_loads() -> None:
    torch.serialization.add_safe_globals(numpy_safe_globals())


def _unwrap_circle_radius() -> None:
    from mmpose.visualization.opencv_backend_visualizer import OpencvBackendVisualizer
    original = OpencvBackendVisualizer.draw_circles
    if getattr(original, '_pointhmr_patched', False):
        return

    def draw_circles(self, center, radius, *args, **kwargs):
        if np.size(radius) == 1:
            radius = float(np.asarray(radius).reshape(-1)[0])
        return original(self, center, radius, *args, **kwargs)

    draw_circles._pointhmr_patched = True
    draw_circles.__wrapped__ = original
    OpencvBackendVisualizer.draw_circles = draw_circles


#: patch name -> (package, exact version it was written for, function)
PATCHES: Dict[str, Tuple[str, str, Callable[[], None]]] = {
    'torchvision_shim': ('mmpose', '1.3.2', _install_torchvision_shim),
    'numpy_weights_only': ('torch', '2.13.0', _allow_numpy_in_weights_only_loads),
    'circle_radius': ('mmpose', '1.3.2', _unwrap_circle_radius),
}


def patch_applies(name: str) -> bool:
    """True when the library version patch ``name`` was written for is the installed one."""
    package, version, _ = PATCHES[name]
    return installed_version(package) == version


def apply() -> None:
    """Apply every patch whose library version is installed (idempotent); warn about the others."""
    global _APPLIED
    if _APPLIED:
        return
    for name, (package, version, patch) in PATCHES.items():
        if patch_applies(name):
            patch()
        else:
            warnings.warn(f'pointhmr.compat: patch {name!r} was written for {package}=={version} but '
                          f'{package} {installed_version(package) or "(not installed)"} is installed; not applied. '
                          'Re-run tests/test_compat.py to see whether it is still needed.')
    _APPLIED = True
