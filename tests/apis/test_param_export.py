"""add_fitted_params / animation_params: parameters added per person (NaN rows for bad meshes), animation files."""
import numpy as np
import pytest
import torch

from pointhmr.apis import add_fitted_params, animation_params, save_animation_params
from pointhmr.body import SMPLBodyModel
from pointhmr.datasets.synthetic.pose_sampler import sample_smpl_parameters


@pytest.fixture(scope='module')
def body_model() -> SMPLBodyModel:
    torch.set_num_threads(1)
    return SMPLBodyModel()


def _results(body_model, num: int):
    rng = np.random.default_rng(0)
    params = [sample_smpl_parameters(rng) for _ in range(num)]
    with torch.no_grad():
        vertices = body_model(torch.tensor(np.stack([p[0] for p in params]), dtype=torch.float32),
                              torch.tensor(np.stack([p[1] for p in params]), dtype=torch.float32)).numpy()
    return dict(vertices=vertices,
                mesh_cameras=np.tile([[1.0, 0.0, 0.0]], (num, 1)).astype(np.float32),
                input_centers=np.tile([[100.0, 120.0]], (num, 1)).astype(np.float32),
                input_scales=np.full((num, 2), 200.0, np.float32)), params


def test_add_fitted_params_with_a_nan_person(body_model):
    results, params = _results(body_model, 2)
    results['vertices'][1, 0, 0] = np.nan
    out = add_fitted_params(results, body_model, image_shape=(240, 200))
    assert out['body_pose'].shape == (2, 69) and out['global_orient'].shape == (2, 3)
    assert out['fit_vertex_error'][0] < 2.0 and np.isnan(out['fit_vertex_error'][1])
    assert np.isnan(out['betas'][1]).all() and np.isfinite(out['betas'][0]).all()
    np.testing.assert_allclose(out['betas'][0], params[0][1], atol=0.1)
    assert out['camera_translation'].shape == (2, 3) and out['camera_translation'][0, 2] > 0
    assert 'camera_translation' not in add_fitted_params(results, body_model)
    empty = add_fitted_params({k: v[:0] for k, v in results.items()}, body_model, image_shape=(240, 200))
    assert empty['body_pose'].shape == (0, 69) and empty['camera_translation'].shape == (0, 3)


def test_animation_params_image_and_track(body_model, tmp_path):
    results, _ = _results(body_model, 3)
    out = add_fitted_params(results, body_model)
    person = animation_params({k: v[0] for k, v in out.items()}, body_model)
    assert person['body_pose'].shape == (69, ) and str(person['model_type']) == 'smpl'
    track = animation_params(out, body_model, frame_indices=np.array([0, 1, 3]), fps=25.0)
    assert track['body_pose'].shape == (3, 69) and track['betas'].shape == (10, )
    np.testing.assert_allclose(track['betas'], out['betas'].mean(0), rtol=1e-5, atol=1e-6)
    path = save_animation_params(tmp_path / 'a' / 'track.npz', track)
    with np.load(path, allow_pickle=False) as data:
        np.testing.assert_array_equal(data['frame_indices'], [0, 1, 3])
        assert float(data['fps']) == 25.0 and str(data['gender']) == 'neutral'


def test_mano_results_use_hand_pose():
    from pointhmr.body import MANOHandModel
    hand = MANOHandModel()
    with torch.no_grad():
        vertices = hand(torch.zeros(1, 48), torch.zeros(1, 10)).numpy()
    out = add_fitted_params(dict(vertices=vertices), hand)
    assert out['hand_pose'].shape == (1, 45) and 'body_pose' not in out and out['fit_vertex_error'][0] < 1.0
    params = animation_params({k: v[0] for k, v in out.items()}, hand)
    assert str(params['model_type']) == 'mano' and params['hand_pose'].shape == (45, )
