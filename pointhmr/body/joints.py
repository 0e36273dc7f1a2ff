"""Joint sets used by PointHMR and the index maps between them (METRO / GraphCMR conventions).

* ``J24``: dataset label order (2D and 3D joints in TSV labels); pelvis is index 14.
* ``J14``: the 14 LSP-like joints the transformer's joint tokens regress and the metrics use; hips are 2 and 3.
* ``H36M17``: joints regressed from the mesh by the Human3.6M regressor; pelvis is index 0.
* ``SMPL24``: the SMPL kinematic tree (pose parameters are 24 x 3 axis-angle values in this order).
* ``MANO16``: the MANO hand kinematic tree (wrist, then index, middle, pinky, ring, thumb with 3 joints each; pose
  parameters are 16 x 3 axis-angle values in this order).
* ``HAND21``: the 21 hand keypoints in FreiHAND order (wrist, then thumb, index, middle, ring, pinky from the root to
  the tip); the 16 MANO joints plus 5 fingertip vertices.
"""
from typing import List

J24_NAMES: List[str] = [
    'R_Ankle', 'R_Knee', 'R_Hip', 'L_Hip', 'L_Knee', 'L_Ankle', 'R_Wrist', 'R_Elbow', 'R_Shoulder', 'L_Shoulder',
    'L_Elbow', 'L_Wrist', 'Neck', 'Top_of_Head', 'Pelvis', 'Thorax', 'Spine', 'Jaw', 'Head', 'Nose', 'L_Eye', 'R_Eye',
    'L_Ear', 'R_Ear'
]
J24_PELVIS = 14
#: left/right swap of J24 used by horizontal flip augmentation
J24_FLIP_PERM: List[int] = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13, 14, 15, 16, 17, 18, 19, 21, 20, 23, 22]
#: J24 -> J14 (note: J14[13] is J24 "Head" (18), not "Top_of_Head" (13), as in the official code)
J24_TO_J14: List[int] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 18]

J14_NAMES: List[str] = [J24_NAMES[i] for i in J24_TO_J14]
J14_R_HIP, J14_L_HIP = 2, 3
#: left/right swap of J14
J14_FLIP_PERM: List[int] = [5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13]

H36M_NAMES: List[str] = [
    'Pelvis', 'R_Hip', 'R_Knee', 'R_Ankle', 'L_Hip', 'L_Knee', 'L_Ankle', 'Torso', 'Neck', 'Nose', 'Head', 'L_Shoulder',
    'L_Elbow', 'L_Wrist', 'R_Shoulder', 'R_Elbow', 'R_Wrist'
]
H36M_PELVIS = 0
#: H36M17 -> J14
H36M_TO_J14: List[int] = [3, 2, 1, 4, 5, 6, 16, 15, 14, 11, 12, 13, 8, 10]
#: J24 slot -> H36M17 joint, for building J24 labels from H36M joints (the H36M "protocol 2" convention);
#: J24 slots not listed here have confidence 0.
J24_FROM_H36M = {
    0: 3, 1: 2, 2: 1, 3: 4, 4: 5, 5: 6, 6: 16, 7: 15, 8: 14, 9: 11, 10: 12, 11: 13, 12: 8, 14: 0, 16: 7, 18: 10, 19: 9
}
#: left/right swap of H36M17
H36M_FLIP_PERM: List[int] = [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13]
#: bones of H36M17 for drawing (mmpose-style skeleton links)
H36M_SKELETON = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7), (7, 8), (8, 9), (9, 10), (8, 11), (11, 12),
                 (12, 13), (8, 14), (14, 15), (15, 16)]

SMPL_JOINT_NAMES: List[str] = [
    'pelvis', 'left_hip', 'right_hip', 'spine1', 'left_knee', 'right_knee', 'spine2', 'left_ankle', 'right_ankle',
    'spine3', 'left_foot', 'right_foot', 'neck', 'left_collar', 'right_collar', 'head', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hand', 'right_hand'
]
SMPL_PARENTS: List[int] = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
#: left/right swap of the 24 SMPL joints
SMPL_JOINT_FLIP_PERM: List[int] = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20, 23, 22]
#: the same swap on the flattened 72-d axis-angle pose vector (flip also negates components 2 and 3 of every joint)
SMPL_POSE_FLIP_PERM: List[int] = [3 * j + c for j in SMPL_JOINT_FLIP_PERM for c in range(3)]

NUM_J24, NUM_J14, NUM_H36M, NUM_SMPL_JOINTS = 24, 14, 17, 24

MANO_JOINT_NAMES: List[str] = [
    'wrist', 'index1', 'index2', 'index3', 'middle1', 'middle2', 'middle3', 'pinky1', 'pinky2', 'pinky3', 'ring1',
    'ring2', 'ring3', 'thumb1', 'thumb2', 'thumb3'
]
MANO_PARENTS: List[int] = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14]
#: MANO16 joints of each finger from the root to the outermost joint
MANO_FINGER_JOINTS = {
    'thumb': [13, 14, 15], 'index': [1, 2, 3], 'middle': [4, 5, 6], 'ring': [10, 11, 12], 'pinky': [7, 8, 9]
}
#: finger order of the 5 fingertip vertices (as in the METRO / manopth hand code)
FINGERTIP_ORDER: List[str] = ['thumb', 'index', 'middle', 'ring', 'pinky']

HAND21_NAMES: List[str] = ['wrist'] + [f'{finger}{i}' for finger in FINGERTIP_ORDER for i in range(1, 5)]
HAND21_ROOT = 0
#: [16 MANO joints, 5 fingertips (FINGERTIP_ORDER)] -> HAND21 (FreiHAND order)
MANO21_TO_HAND21: List[int] = [0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20]
#: bones of HAND21 for drawing
HAND21_SKELETON = [(0, 1 + 4 * f) for f in range(5)] + [(1 + 4 * f + i, 2 + 4 * f + i) for f in range(5)
                                                        for i in range(3)]

NUM_MANO_JOINTS, NUM_HAND21 = 16, 21
