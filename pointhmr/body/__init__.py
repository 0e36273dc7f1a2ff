"""pointhmr.body: joint sets, the SMPL body and MANO hand models, mesh sampling, graph masks and the embedded synthetic
body and hand."""
from . import joints
from .graph_hops import attention_mask, hop_reachability
from .hand_pose import HandPoseSampler
from .mano_layer import MANOHandModel
from .mesh_model import SMPLMeshInterface, level_sizes
from .mesh_sampler import MeshSampler
from .safe_pickle import load_legacy_adjacency, load_metro_mesh_downsampling, load_smpl_pickle
from .smpl_layer import SMPLBodyModel
from .synthetic_body import default_body_files, generate_synthetic_body
from .synthetic_hand import default_hand_files, generate_synthetic_hand

__all__ = [
    'joints', 'SMPLMeshInterface', 'level_sizes', 'attention_mask', 'hop_reachability', 'MeshSampler',
    'load_legacy_adjacency', 'load_metro_mesh_downsampling', 'load_smpl_pickle', 'SMPLBodyModel', 'default_body_files',
    'generate_synthetic_body', 'HandPoseSampler', 'MANOHandModel', 'default_hand_files', 'generate_synthetic_hand'
]
