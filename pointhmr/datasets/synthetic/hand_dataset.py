"""The synthetic hand dataset: the generic generator with the embedded MANO-format hand (FreiHAND-style labels)."""
from typing import Callable, Dict, Optional

from .generator import SyntheticCameraConfig, make_synthetic_dataset
from .hand_sampler import HandParameterSampler

#: FreiHAND-like crops: 224 x 224 images, the hand's larger projected side filling 55-80 % of the image
HAND_CAMERA = SyntheticCameraConfig(image_size=224,
                                    focal_range=(1.6, 2.4),
                                    height_fraction=(0.55, 0.8),
                                    max_center_offset=0.08,
                                    size_by='max_side',
                                    min_extent=0.05,
                                    min_clearance=0.1,
                                    center_on='mesh')


def make_synthetic_hand_dataset(out_dir: str,
                                splits: Dict[str, int],
                                seed: int = 0,
                                hand=None,
                                camera: Optional[SyntheticCameraConfig] = None,
                                progress: Optional[Callable[[str, int, int], None]] = None,
                                part_colors: bool = True,
                                background: str = 'plain',
                                **sampler_args) -> Dict[str, str]:
    """Write synthetic hand splits (METRO FreiHAND TSV layout: 21 joints rooted at the wrist, MANO pose (48) and betas
    (10), 2D joints) to ``out_dir``; return ``split -> yaml path``.

    Args:
        hand: a built mesh model (default: ``MANOHandModel()``, the embedded synthetic hand).
        camera: image / camera ranges (default :data:`HAND_CAMERA`).
        sampler_args: passed to :class:`HandParameterSampler` (``max_turn``, ``max_tilt``, ``max_roll``, ...).
        Other arguments as :func:`.generator.make_synthetic_dataset`.
    """
    if hand is None:
        from pointhmr.body.mano_layer import MANOHandModel
        hand = MANOHandModel()
    return make_synthetic_dataset(out_dir,
                                  splits,
                                  seed=seed,
                                  body=hand,
                                  camera=camera or HAND_CAMERA,
                                  progress=progress,
                                  part_colors=part_colors,
                                  background=background,
                                  parameter_sampler=HandParameterSampler(hand, **sampler_args),
                                  dataset_name='synthetic-hand')
