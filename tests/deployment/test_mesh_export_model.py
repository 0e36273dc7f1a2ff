import numpy as np
import pytest
import scipy.sparse as sp
import torch

from pointhmr.deployment import ExportError, GatherUpsampler, MeshExportModel, additive_attention_mask
from pointhmr.deployment.mesh_export_model import MASK_VALUE, composed_upsampling_matrix, named_outputs
from pointhmr.models.layers import ResidualBasicBlock


def test_gather_upsampler_equals_sparse_matrix_product():
    matrix = sp.csr_matrix(np.array([[0.5, 0, 0.5], [0, 0, 0], [0.2, 0.3, 0.5], [0, 1.0, 0]], dtype=np.float32))
    up = GatherUpsampler(matrix)
    assert up.k == 3 and up.num_out == 4 and up.num_in == 3
    x = torch.randn(2, 3, 5)
    expected = torch.einsum('oi,bic->boc', torch.from_numpy(matrix.toarray()), x)
    torch.testing.assert_close(up(x), expected)
    assert not dict(up.state_dict())  # fixed data, not checkpoint state


def test_upsampler_of_the_mesh_model_equals_its_sampler(light_model):
    head = light_model.head
    sampler = head.body_model.sampler
    level = sampler.num_vertices.index(head.num_vertices)
    up = GatherUpsampler(composed_upsampling_matrix(sampler, level, 0))
    x = torch.randn(3, head.num_vertices, 3)
    expected = sampler.upsample(x, level, 0)
    assert up(x).shape == (3, sampler.num_vertices[0], 3)
    torch.testing.assert_close(up(x), expected, rtol=1e-5, atol=1e-6)


def test_additive_masks_are_finite_without_blocked_rows(light_model):
    assert additive_attention_mask(None) is None
    for mask in light_model.head.attention_masks:
        bias = additive_attention_mask(mask)
        assert bias.dtype == torch.float32 and torch.isfinite(bias).all()
        assert set(bias.unique().tolist()) <= {0.0, MASK_VALUE}
        assert torch.equal(bias == MASK_VALUE, mask)
        assert (bias == 0).any(dim=1).all()  # every query attends to something
    with pytest.raises(ExportError, match='boolean'):
        additive_attention_mask(torch.zeros(2, 2))


@pytest.mark.parametrize('options', [
    dict(winograd_tile=None),
    dict(winograd_tile=4, winograd_min_channels=8),
    dict(winograd_tile=2, winograd_min_channels=8)
])
def test_export_forward_equals_predict(light_model, options, crops):
    wrapper = MeshExportModel(light_model, **options)
    images = crops(3)
    with torch.no_grad():
        outputs = named_outputs(wrapper(images))
        preds = light_model.head.predict(light_model.extract_feat(images), None)
    for name, shape in wrapper.output_shapes(3).items():
        assert tuple(outputs[name].shape) == shape
    vertices = np.concatenate([p.vertices for p in preds])
    assert np.abs(outputs['vertices'].numpy() - vertices).max() <= 1e-5
    np.testing.assert_allclose(outputs['keypoints_3d'].numpy(),
                               np.concatenate([p.keypoints_3d for p in preds]),
                               atol=1e-5)
    np.testing.assert_allclose(outputs['camera'].numpy(), np.concatenate([p.camera for p in preds]), atol=1e-5)
    np.testing.assert_allclose(outputs['joints'].numpy(), np.concatenate([p.joints_14 for p in preds]), atol=1e-5)
    keypoints, _ = light_model.head.decoder.decode(outputs['keypoints_2d'])
    np.testing.assert_allclose(keypoints, np.concatenate([p.keypoints for p in preds]), atol=1e-3)  # crop pixels
    assert vertices.std() > 1e-3  # non-trivial output


def test_residual_blocks_are_restored(light_model, crops):
    blocks = [m for m in light_model.modules() if isinstance(m, ResidualBasicBlock)]
    wrapper = MeshExportModel(light_model)
    with torch.no_grad():
        wrapper(crops(1))
        with pytest.raises(ValueError):
            wrapper(torch.zeros(1, 3, 256, 256))  # 64 grid tokens instead of 49
    assert [m for m in light_model.modules() if isinstance(m, ResidualBasicBlock)] == blocks


def test_refuses_models_it_cannot_export(light_model):
    with pytest.raises(ExportError, match='PointHMR'):
        MeshExportModel(torch.nn.Linear(2, 2))
    light_model.test_cfg['flip_test'] = True
    try:
        with pytest.raises(ExportError, match='flip_test=False'):
            MeshExportModel(light_model)
    finally:
        light_model.test_cfg['flip_test'] = False


def test_mesh_model_facts_of_the_hand():
    """The export helpers read every size from the mesh model: the MANO hand's tokens (level 1) up-sample to its full
    mesh, its keypoints and root come from the hand model."""
    from pointhmr.body import MANOHandModel
    from pointhmr.deployment.mesh_export_model import mesh_keypoints, root_keypoint_of, token_level_of
    hand = MANOHandModel()
    sampler = hand.sampler
    level = token_level_of(hand, sampler.num_vertices[hand.token_level])
    assert level == hand.token_level
    up = GatherUpsampler(composed_upsampling_matrix(sampler, level, 0))
    x = torch.randn(2, sampler.num_vertices[level], 3)
    assert up(x).shape == (2, hand.num_vertices, 3)
    torch.testing.assert_close(up(x), sampler.upsample(x, level, 0), rtol=1e-5, atol=1e-6)
    vertices = torch.randn(2, hand.num_vertices, 3)
    torch.testing.assert_close(mesh_keypoints(hand, vertices), hand.keypoints(vertices))
    assert root_keypoint_of(hand) == hand.root_keypoint
