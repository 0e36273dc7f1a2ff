"""Make the pinned OpenMMLab stack work on CPU torch 2.13 (see README "Installation notes").

Applied once, on ``import pointhmr``:

* mmpose 1.3.2 imports torchvision only for ``SimCCVisualizer``; PyPI's torchvision does not load beside CPU torch, so a
  stand-in module is registered when torchvision is absent (only SimCC heatmap drawing is lost).
* torch >= 2.6 loads with ``weights_only=True``; mmengine checkpoints hold a few numpy/mmengine objects. They are
  allow-listed (safe types only) so ``resume``/``load_from`` work without disabling the safe loader.
* ``torch.cuda.set_device`` does not exist on CPU builds but mmengine calls it while initialising distributed runs.
* mmpose's keypoint drawing passes ``radius=np.array([r])`` to ``cv2.circle``, which numpy >= 2.4 arrays no longer
  convert implicitly; single radii are unwrapped (fixes PoseLocalVisualizer and PoseVisualizationHook).
"""
import importlib.util
import sys
import types
import warnings

import numpy as np
import torch

_APPLIED = False
# mmengine / mmcv import pkg_resources (kept by the setuptools<81 pin); its deprecation notice is noise for users
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)


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


def _allow_checkpoint_globals() -> None:
    from mmengine.logging import HistoryBuffer
    # HistoryBuffer pickles its statistics methods through builtins.getattr; allowed objects stay the ones listed here
    safe = [HistoryBuffer, getattr, np.ndarray, np.dtype, np._core.multiarray.scalar, np._core.multiarray._reconstruct]
    safe += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    torch.serialization.add_safe_globals(safe)


def _cpu_set_device_noop() -> None:
    if not torch.cuda.is_available():
        torch.cuda.set_device = lambda *args, **kwargs: None


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
    OpencvBackendVisualizer.draw_circles = draw_circles


def apply() -> None:
    """Apply all compatibility fixes (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    _install_torchvision_shim()
    _allow_checkpoint_globals()
    _cpu_set_device_noop()
    _unwrap_circle_radius()
    _APPLIED = True
