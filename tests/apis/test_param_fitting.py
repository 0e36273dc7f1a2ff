"""fit_body_params: recovers known SMPL parameters from body-model meshes, stays plausible on noisy meshes, rejects
bad input with a clear error."""
import numpy as np
import pytest
import torch

from pointhmr.apis import fit_body_params
from pointhmr.apis.param_fitting import pose_key_of
from pointhmr.body import SMPLBodyModel
from pointhmr.datasets.synthetic.pose_sampler import sample_smpl_parameters
from pointhmr.utils.rotation import axis_angle_to_matrix, rotation_angle_between


@pytest.fixture(scope='module')
def body_model() -> SMPLBodyModel:
    torch.set_num_threads(1)
    return SMPLBodyModel()


def _people(body_model, num: int, seed: int, max_turn: float = 60.0):
    rng = np.random.default_rng(seed)
    params = [sample_smpl_parameters(rng, max_turn=max_turn) for _ in range(num)]
    pose = torch.tensor(np.stack([p[0] for p in params]), dtype=torch.float32)
    betas = torch.tensor(np.stack([p[1] for p in params]), dtype=torch.float32)
    transl = torch.tensor(rng.normal(0.0, 0.3, size=(num, 3)), dtype=torch.float32)
    with torch.no_grad():
        vertices = body_model(pose, betas) + transl[:, None]
    return pose, betas, transl, vertices


def _joint_angles_deg(pose_a: torch.Tensor, pose_b: torch.Tensor) -> torch.Tensor:
    rot_a = axis_angle_to_matrix(pose_a.reshape(len(pose_a), -1, 3))
    rot_b = axis_angle_to_matrix(pose_b.reshape(len(pose_b), -1, 3))
    return torch.rad2deg(rotation_angle_between(rot_a, rot_b))


def test_fit_recovers_known_parameters(body_model):
    pose, betas, transl, vertices = _people(body_model, 4, seed=0, max_turn=180.0)
    out = fit_body_params(vertices, body_model)
    assert set(out) == {'global_orient', 'body_pose', 'betas', 'transl', 'vertices', 'vertex_error'}
    assert out['global_orient'].shape == (4, 3) and out['body_pose'].shape == (4, 69)
    assert out['betas'].shape == (4, 10) and out['transl'].shape == (4, 3) and out['vertices'].shape == vertices.shape
    error_mm = (out['vertices'] - vertices).norm(dim=-1).mean(-1) * 1000
    assert float(error_mm.max()) < 2.0
    torch.testing.assert_close(out['vertex_error'], error_mm, atol=1e-3, rtol=1e-3)
    # the returned parameters reproduce the returned mesh
    with torch.no_grad():
        again = body_model(torch.cat([out['global_orient'], out['body_pose']], 1), out['betas'])
    again = again + out['transl'][:, None]
    torch.testing.assert_close(again, out['vertices'])
    angles = _joint_angles_deg(pose, torch.cat([out['global_orient'], out['body_pose']], 1))
    assert float(angles.mean()) < 1.0 and float(angles[:, 0].max()) < 1.0
    assert float((out['betas'] - betas).abs().max()) < 0.1
    assert float((out['transl'] - transl).norm(dim=-1).max()) < 0.005


def test_initialisation_alone_is_close_and_iterations_improve(body_model):
    _, _, _, vertices = _people(body_model, 2, seed=1)
    init = fit_body_params(vertices, body_model, num_iters=0)
    refined = fit_body_params(vertices, body_model, num_iters=3)
    assert float(init['vertex_error'].max()) < 30.0
    assert bool((refined['vertex_error'] < init['vertex_error'] / 10).all())


def test_noisy_mesh_stays_plausible(body_model):
    pose, betas, _, vertices = _people(body_model, 2, seed=2)
    noisy = vertices + torch.from_numpy(np.random.default_rng(0).normal(0, 0.02, vertices.shape)).float()
    out = fit_body_params(noisy, body_model)
    # the fit averages the noise out: far closer to the clean mesh than the 20 mm noise (~32 mm per vertex)
    assert float(((out['vertices'] - vertices).norm(dim=-1).mean(-1) * 1000).max()) < 5.0
    assert float(out['betas'].abs().max()) < 3.0
    assert float(_joint_angles_deg(pose, torch.cat([out['global_orient'], out['body_pose']], 1)).max()) < 30.0
    # a stronger prior pulls the parameters towards the mean shape / rest pose
    strong = fit_body_params(noisy, body_model, betas_weight=10.0, pose_weight=10.0)
    assert float(strong['betas'].norm(dim=1).mean()) < float(out['betas'].norm(dim=1).mean())
    assert float(strong['body_pose'].norm(dim=1).mean()) < float(out['body_pose'].norm(dim=1).mean())


def test_batches_match_one_call(body_model):
    _, _, _, vertices = _people(body_model, 3, seed=3)
    whole = fit_body_params(vertices, body_model, batch_size=None)
    split = fit_body_params(vertices, body_model, batch_size=2)
    torch.testing.assert_close(whole['vertices'], split['vertices'], atol=1e-4, rtol=0)


def test_single_mesh_numpy_and_empty_batch(body_model):
    _, _, _, vertices = _people(body_model, 1, seed=4)
    out = fit_body_params(vertices[0].numpy(), body_model)
    assert out['vertices'].shape == (1, body_model.num_vertices, 3) and float(out['vertex_error'][0]) < 2.0
    empty = fit_body_params(torch.zeros(0, body_model.num_vertices, 3), body_model)
    assert empty['body_pose'].shape == (0, 69) and empty['vertex_error'].shape == (0, )


def test_bad_input_is_named(body_model):
    _, _, _, vertices = _people(body_model, 2, seed=5)
    vertices[1, 10, 0] = float('nan')
    with pytest.raises(ValueError, match=r'person\(s\) \[1\] contain NaN'):
        fit_body_params(vertices, body_model)
    with pytest.raises(ValueError, match='vertices must be'):
        fit_body_params(torch.zeros(1, 100, 3), body_model)
    with pytest.raises(ValueError, match='num_iters'):
        fit_body_params(vertices[:1], body_model, num_iters=-1)


def test_model_without_skinning_data():

    class Plain(torch.nn.Module):
        num_vertices, num_betas = 4, 1

    with pytest.raises(TypeError, match='no skinning data'):
        fit_body_params(torch.zeros(1, 4, 3), Plain())


def test_pose_key_of(body_model):
    assert pose_key_of(body_model) == 'body_pose'

    class Hand(torch.nn.Module):
        model_type = 'mano'

    assert pose_key_of(Hand()) == 'hand_pose'


def test_fit_mano_hand_in_its_axis_angle_convention():
    from pointhmr.body import MANOHandModel
    from pointhmr.body.hand_pose import HandPoseSampler
    hand = MANOHandModel()
    rng = np.random.default_rng(0)
    sampler = HandPoseSampler.from_model(hand)
    pose = torch.tensor(np.concatenate(
        [rng.normal(0, 1.0, (3, 3)), np.stack([sampler.sample(rng) for _ in range(3)])], 1),
                        dtype=torch.float32)
    betas = torch.tensor(rng.normal(0, 0.6, (3, 10)), dtype=torch.float32)
    with torch.no_grad():
        vertices = hand(pose, betas) + 0.05
    out = fit_body_params(vertices, hand)
    assert out['body_pose'].shape == (3, 45) and float(out['vertex_error'].max()) < 1.0
    # the axis-angle output is relative to the mean hand, like the model's input: it reproduces the mesh
    with torch.no_grad():
        again = hand(torch.cat([out['global_orient'], out['body_pose']], 1), out['betas']) + out['transl'][:, None]
    assert float((again - vertices).norm(dim=-1).mean()) < 1e-3
    offset = hand.mano.pose_mean.reshape(16, 3)
    angles = _joint_angles_deg((pose.reshape(3, 16, 3) + offset).reshape(3, -1),
                               (torch.cat([out['global_orient'], out['body_pose']], 1).reshape(3, 16, 3) + offset))
    assert float(angles.mean()) < 3.0
    assert pose_key_of(hand) == 'hand_pose'


def test_fit_with_pose_blend_shapes_like_real_smpl():
    """The synthetic body has zero pose blend shapes; real SMPL files have them. Give a body some (a smooth field,
    1-4 cm at these poses) and check the fit still converges (its Jacobian ignores them, its residuals do not)."""
    body = SMPLBodyModel()
    gen = torch.Generator().manual_seed(0)
    freq = torch.randn(207, 3, 3, generator=gen) * 3
    phase = torch.rand(207, 3, generator=gen) * 6.28
    field = torch.sin(torch.einsum('fcd,vd->fvc', freq, body.smpl.v_template) + phase[:, None]) * 0.005
    body.smpl.posedirs.copy_(field.reshape(207, -1))
    pose, betas, _, vertices = _people(body, 3, seed=6)
    with torch.no_grad():
        assert float((body(pose, betas) - SMPLBodyModel()(pose, betas)).norm(dim=-1).mean()) > 0.005
    out = fit_body_params(vertices, body, num_iters=8)
    assert float(out['vertex_error'].max()) < 2.0


def test_closed_form_normal_equations_match_the_explicit_jacobian():
    from pointhmr.apis.param_fitting import _cross_matrix, _normal_equations, _SkinningTerms
    gen = torch.Generator().manual_seed(0)
    num, num_vertices, num_joints, num_betas = 2, 50, 4, 3
    mesh, residual = (torch.randn(num, num_vertices, 3, generator=gen, dtype=torch.float64) for _ in range(2))
    joints = torch.randn(num, num_joints, 3, generator=gen, dtype=torch.float64)
    dirs = torch.randn(num, num_betas, num_vertices, 3, generator=gen, dtype=torch.float64)
    subtree = torch.rand(num_vertices, num_joints, generator=gen, dtype=torch.float64)
    subtree[:, 3] = 0  # a joint without skinned vertices
    pairs = (subtree[:, :, None] * subtree[:, None, :]).reshape(num_vertices, -1)
    used = torch.nonzero(pairs.amax(0) > 0).flatten()
    terms = _SkinningTerms(subtree_t=subtree.T.contiguous(),
                           pair_index=used,
                           pair_weights_t=pairs[:, used].T,
                           pair_total=pairs.sum(0).reshape(num_joints, num_joints),
                           rest_joint_basis=torch.zeros(0))
    normal, grad = _normal_equations(mesh, residual, joints, dirs, terms)
    # explicit (3V, P) Jacobian: rotation columns -s_vj [v - p_j]x, betas directions, identity for translation
    rot = -(subtree[None, :, :, None, None] * _cross_matrix(mesh[:, :, None] - joints[:, None]))
    jac = torch.cat([
        rot.permute(0, 1, 3, 2, 4).reshape(num, 3 * num_vertices, 3 * num_joints),
        dirs.flatten(2).transpose(1, 2),
        torch.eye(3, dtype=torch.float64).repeat(num_vertices, 1)[None].expand(num, -1, -1)
    ], 2)
    torch.testing.assert_close(normal, jac.transpose(1, 2) @ jac)
    torch.testing.assert_close(grad, (jac.transpose(1, 2) @ residual.reshape(num, -1, 1))[..., 0])
