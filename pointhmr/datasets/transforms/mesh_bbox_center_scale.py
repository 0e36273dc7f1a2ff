"""Square person box (centre + side) for the mesh crop."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MeshBBoxCenterScale(BaseTransform):
    """Provide ``bbox_center`` (N, 2) and ``bbox_scale`` (N, 2) (square side in pixels, both entries equal).

    Dataset-provided values (METRO labels: ``center`` and ``200 * scale``, already enlarged) are kept as they are.
    Otherwise they are computed from ``bbox`` (N, 4) xyxy (e.g. a detector box or the input of
    ``mmpose.apis.inference_topdown``): a square of side ``padding * max(w, h)`` at the box centre.

    Args:
        padding: enlargement of the longer box side (1.2, as used for 3DPW labels).
    """

    def __init__(self, padding: float = 1.2) -> None:
        super().__init__()
        if padding <= 0:
            raise ValueError(f'padding must be positive, got {padding}')
        self.padding = float(padding)

    def transform(self, results: dict) -> Optional[dict]:
        if 'bbox_center' in results and 'bbox_scale' in results:
            return results
        if 'bbox' not in results:
            raise KeyError('MeshBBoxCenterScale needs either bbox_center + bbox_scale (dataset labels) or bbox '
                           '(N, 4) xyxy in the results; add a bbox for inference inputs')
        bbox = np.asarray(results['bbox'], dtype=np.float32).reshape(-1, 4)
        center = (bbox[:, :2] + bbox[:, 2:]) * 0.5
        side = self.padding * np.max(bbox[:, 2:] - bbox[:, :2], axis=1)
        if np.any(side <= 0):
            raise ValueError(f'bbox {bbox.tolist()} has no area; expected x1 < x2 and y1 < y2 (xyxy format)')
        results['bbox_center'] = center.astype(np.float32)
        results['bbox_scale'] = np.stack([side, side], axis=1).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(padding={self.padding})'
