"""mmpose-style keypoint meta information of the keypoints PointHMR predicts: the 17 Human3.6M joints of the body
model and the 21 hand joints (FreiHAND order) of the hand model.

``H36M_METAINFO`` is the raw ``dataset_info`` form (``keypoint_info`` / ``skeleton_info`` / ``joint_weights`` /
``sigmas``) accepted by ``mmpose.datasets.datasets.utils.parse_pose_metainfo``. Names, flip pairs and bones come
from :mod:`pointhmr.body.joints`.
"""
from typing import Dict, List

from pointhmr.body import joints

_LEFT, _RIGHT, _CENTRE = [0, 255, 0], [255, 128, 0], [51, 153, 255]
_LOWER = {'Pelvis', 'R_Hip', 'R_Knee', 'R_Ankle', 'L_Hip', 'L_Knee', 'L_Ankle'}
# OKS-style falloffs, only used by COCO-style metrics/visualisation (PointHMR's metrics are metric-space errors);
# hips/knees/ankles/shoulders/elbows/wrists/nose follow COCO's values, torso/neck/head joints use a loose 0.1.
_SIGMAS = {
    'Hip': 0.107, 'Knee': 0.087, 'Ankle': 0.089, 'Shoulder': 0.079, 'Elbow': 0.072, 'Wrist': 0.062, 'Nose': 0.026
}


def _side_color(name: str) -> List[int]:
    if name.startswith('L_'):
        return list(_LEFT)
    if name.startswith('R_'):
        return list(_RIGHT)
    return list(_CENTRE)


def _build() -> Dict:
    names = joints.H36M_NAMES
    keypoint_info = {}
    for i, name in enumerate(names):
        keypoint_info[i] = dict(name=name,
                                id=i,
                                color=_side_color(name),
                                type='lower' if name in _LOWER else 'upper',
                                swap=names[joints.H36M_FLIP_PERM[i]] if joints.H36M_FLIP_PERM[i] != i else '')
    skeleton_info = {}
    for i, (a, b) in enumerate(joints.H36M_SKELETON):
        skeleton_info[i] = dict(link=(names[a], names[b]), id=i, color=_side_color(names[b]))
    sigmas = [next((v for k, v in _SIGMAS.items() if name.endswith(k)), 0.1) for name in names]
    return dict(
        dataset_name='h36m',
        paper_info=dict(
            author='Ionescu, Catalin and Papava, Dragos and Olaru, Vlad and Sminchisescu, Cristian',
            title='Human3.6M: Large Scale Datasets and Predictive Methods for 3D Human Sensing in Natural Environments',
            container='IEEE Transactions on Pattern Analysis and Machine Intelligence',
            year='2014'),
        keypoint_info=keypoint_info,
        skeleton_info=skeleton_info,
        joint_weights=[1.0] * len(names),
        sigmas=sigmas)


#: raw mmpose ``dataset_info`` of the H36M-17 joints (usable as a dataset's ``metainfo=``)
H36M_METAINFO: Dict = _build()

#: one colour per finger (thumb, index, middle, ring, pinky), as mmpose's hand datasets; the wrist is white
_FINGER_COLORS = [[255, 128, 0], [255, 153, 255], [102, 178, 255], [255, 51, 51], [0, 255, 0]]


def _build_hand() -> Dict:
    names = joints.HAND21_NAMES

    def color(index: int) -> List[int]:
        return [255, 255, 255] if index == joints.HAND21_ROOT else list(_FINGER_COLORS[(index - 1) // 4])

    keypoint_info = {i: dict(name=name, id=i, color=color(i), type='', swap='') for i, name in enumerate(names)}
    skeleton_info = {
        i: dict(link=(names[a], names[b]), id=i, color=color(b))
        for i, (a, b) in enumerate(joints.HAND21_SKELETON)
    }
    return dict(
        dataset_name='freihand_mesh',
        paper_info=dict(
            author='Zimmermann, Christian and Ceylan, Duygu and Yang, Jimei and Russell, Bryan and Argus, Max and '
            'Brox, Thomas',
            title='FreiHAND: A Dataset for Markerless Capture of Hand Pose and Shape from Single RGB Images',
            container='Proceedings of the IEEE International Conference on Computer Vision',
            year='2019'),
        keypoint_info=keypoint_info,
        skeleton_info=skeleton_info,
        joint_weights=[1.0] * len(names),
        sigmas=[0.025] * len(names))


#: raw mmpose ``dataset_info`` of the 21 hand joints (FreiHAND order; hands are never flipped: no swaps)
HAND21_METAINFO: Dict = _build_hand()
