"""Each compatibility patch: written for the installed version, still needed (fails without it), works with it."""
import importlib.util
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from pointhmr import compat


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)


def test_every_patch_is_for_the_installed_version():
    for name, (package, version, _) in compat.PATCHES.items():
        assert compat.patch_applies(name), f'{name} written for {package}=={version}; re-check it for the new version'


def test_patches_for_other_versions_are_skipped_with_a_warning(monkeypatch):
    calls = []
    monkeypatch.setattr(compat, '_APPLIED', False)
    monkeypatch.setattr(compat, 'installed_version', lambda package: '0.0.1')
    monkeypatch.setattr(compat, 'PATCHES', {'demo': ('mmpose', '1.3.2', lambda: calls.append(1))})
    with pytest.warns(UserWarning, match=r"'demo' was written for mmpose==1.3.2 but mmpose 0.0.1"):
        compat.apply()
    assert calls == []


@pytest.mark.skipif(importlib.util.find_spec('torchvision') is not None, reason='torchvision installed: no shim')
def test_torchvision_shim_is_needed_and_works():
    without = run_python('import mmpose.visualization')
    assert without.returncode != 0 and 'torchvision' in without.stderr  # still needed by this mmpose
    with_shim = run_python('import pointhmr, mmpose.visualization; from mmpose.visualization import '
                           'PoseLocalVisualizer')
    assert with_shim.returncode == 0, with_shim.stderr


def test_numpy_allow_list_is_needed_and_works(tmp_path):
    path = tmp_path / 'meta.pth'
    torch.save({'sigmas': np.arange(3.0), 'seed': np.int64(3)}, path)
    kept = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(Exception, match='numpy'):
            torch.load(path, weights_only=True)  # torch alone still refuses numpy arrays
    finally:
        torch.serialization.add_safe_globals(kept)
    loaded = torch.load(path, weights_only=True)
    assert np.array_equal(loaded['sigmas'], np.arange(3.0)) and loaded['seed'] == 3
    assert getattr not in torch.serialization.get_safe_globals()
    functions = {g for g in compat.numpy_safe_globals() if not isinstance(g, type)}
    assert functions == {np._core.multiarray._reconstruct, np._core.multiarray.scalar}  # numpy's own rebuilders


def test_circle_radius_patch_is_needed_and_works():
    from mmpose.visualization.opencv_backend_visualizer import OpencvBackendVisualizer
    visualizer = OpencvBackendVisualizer(name=f'compat_{id(object())}', backend='opencv')
    visualizer.set_image(np.zeros((20, 20, 3), np.uint8))
    patched = OpencvBackendVisualizer.draw_circles
    assert patched._pointhmr_patched
    with pytest.raises(TypeError):  # mmpose 1.3.2 + this numpy: a 1-element radius array breaks cv2.circle
        patched.__wrapped__(visualizer, np.array([10.0, 10.0]), np.array([3]), face_colors=(255, 0, 0))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        visualizer.draw_circles(np.array([10.0, 10.0]), np.array([3]), face_colors=(255, 0, 0))
    assert visualizer.get_image().any()
