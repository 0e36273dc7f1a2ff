"""Tests of the PointHMR estimator: loss / predict / tensor modes on hand-built data samples (light model)."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from sample_helpers import random_labels


def _data_sample(seed: int, has_smpl: float = 1.) -> PoseDataSample:
    sample = PoseDataSample()
    sample.gt_instances = InstanceData(bboxes=np.array([[40., 30., 240., 230.]], dtype=np.float32),
                                       bbox_scores=np.ones(1, dtype=np.float32))
    sample.gt_instance_labels = random_labels(seed, has_smpl)
    sample.set_metainfo(
        dict(input_size=np.array([224, 224]),
             input_center=np.array([140., 130.]),
             input_scale=np.array([200., 200.]),
             img_shape=(300, 320),
             ori_shape=(300, 320),
             flip=False,
             rotation=0.))
    return sample


def _batch(model, training: bool, seeds=(0, 1)):
    generator = torch.Generator().manual_seed(7)
    inputs = [torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8, generator=generator) for _ in seeds]
    samples = [_data_sample(seed, has_smpl=float(i == 0)) for i, seed in enumerate(seeds)]
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training=training)


def test_loss_mode_gradients_reach_every_part(light_model_cfg):
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg)
    model.train()
    losses = model(**_batch(model, training=True, seeds=(0, )), mode='loss')
    assert set(losses) == {
        'loss_joints_3d', 'loss_joints_3d_reg', 'loss_vertices', 'loss_joints_2d', 'loss_joints_2d_reg', 'loss_heatmap'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    params = dict(model.named_parameters())
    for name in ('backbone.conv1.weight', 'backbone.stage4.0.branches.0.0.conv1.weight',
                 'neck.feature_extract_layer.0.conv1.weight', 'neck.heatmap_layer.0.conv1.weight',
                 'neck.grid_layer.0.conv1.weight', 'neck.cam_layer.weight', 'head.joint_token_embed.weight',
                 'head.token_position_embed.weight', 'head.transformer.transformer_1.layers.0.self_attn.in_proj_weight',
                 'head.transformer.transformer_4.norm.weight', 'head.transformer.cam_predictor.weight'):
        assert params[name].grad is not None and params[name].grad.abs().sum() > 0, name


def test_predict_and_tensor_modes(light_model_cfg):
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg)
    model.eval()
    data = _batch(model, training=False)
    with torch.no_grad():
        results = model(**data, mode='predict')
        out = model(data['inputs'], None, mode='tensor')
    assert isinstance(out, dict) and out['vertices'].shape == (2, 6890, 3)
    assert len(results) == 2
    pred = results[1].pred_instances
    for key, shape in dict(keypoints=(1, 17, 2),
                           keypoint_scores=(1, 17),
                           keypoints_3d=(1, 17, 3),
                           joints_14=(1, 14, 3),
                           vertices=(1, 6890, 3),
                           camera=(1, 3),
                           bboxes=(1, 4)).items():
        assert pred.get(key) is not None and pred.get(key).shape == shape, key
    # crop pixels -> image pixels: x_img = x_crop / 224 * scale + center - scale / 2
    h36m = model.head.body_model.h36m_joints(out['vertices'])
    camera = out['camera'][1]
    crop = ((camera[0] * (h36m[1, :, :2] + camera[1:]) + 1) * 112).numpy()
    expected = crop / 224 * 200 + np.array([140., 130.]) - 100
    np.testing.assert_allclose(pred.keypoints[0], expected, rtol=1e-4, atol=1e-2)
    np.testing.assert_allclose(pred.camera[0], camera.numpy(), atol=1e-6)


def test_preprocessor_and_flip_test_guard(light_model_cfg):
    model = MODELS.build(light_model_cfg)
    preprocessor = model.data_preprocessor
    assert preprocessor._channel_conversion  # BGR -> RGB
    assert torch.allclose(preprocessor.mean.flatten(), torch.tensor([123.675, 116.28, 103.53]))
    light_model_cfg['test_cfg'] = dict(flip_test=True)
    with pytest.raises(ValueError, match='flip'):
        MODELS.build(light_model_cfg)


def test_loss_and_predict_under_bfloat16_autocast(light_model_cfg):
    """What the AMP config variant runs (autocast around loss / predict), checked with CPU bfloat16 autocast: the
    attention masks follow the query dtype, sparse up-sampling and losses work; losses close to float32."""
    torch.manual_seed(0)
    model = MODELS.build(light_model_cfg).train()
    batch = _batch(model, training=True)
    for module in model.modules():  # deterministic comparison: no dropout
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.
    reference = model(**batch, mode='loss')
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(**batch, mode='loss')
    assert losses.keys() == reference.keys()
    for key, value in losses.items():
        assert value.dtype == torch.float32 and torch.isfinite(value), key
        assert value.item() == pytest.approx(reference[key].item(), rel=0.1, abs=1e-3), key
    sum(losses.values()).backward()
    assert model.head.transformer.transformer_1.layers[0].self_attn.in_proj_weight.grad.isfinite().all()
    model.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        results = model(**_batch(model, training=False), mode='predict')
    assert np.isfinite(results[0].pred_instances.vertices).all()


def test_ddp_ignores_exactly_the_body_model_buffers(light_model_cfg):
    model = MODELS.build(light_model_cfg)
    body_buffers = {f'head.body_model.{name}' for name, _ in model.head.body_model.named_buffers()}
    assert body_buffers and set(model._ddp_params_and_buffers_to_ignore) == body_buffers
    assert body_buffers <= {name for name, _ in model.named_buffers()}  # the names DDP looks up
    assert not body_buffers & set(model.state_dict())


def _save_checkpoint(path, state_dict) -> str:
    torch.save(dict(state_dict=state_dict, meta=dict()), str(path))
    return str(path)


def _init_model_config(model_cfg: dict, **model_overrides):
    from mmengine import Config
    return Config(dict(default_scope='mmpose', model=dict(model_cfg, **model_overrides)))


WRONG_SHAPE, MISSING, EXTRA = 'head.joint_token_embed.weight', 'neck.cam_layer.bias', 'head.no_such_layer.weight'


def _bad_state_dict(state_dict: dict, case: str) -> dict:
    state_dict = dict(state_dict)
    if case in ('wrong shape', 'all'):
        state_dict[WRONG_SHAPE] = torch.zeros(state_dict[WRONG_SHAPE].shape[0] + 1, state_dict[WRONG_SHAPE].shape[1])
    if case in ('missing', 'all'):
        del state_dict[MISSING]
    if case in ('extra', 'all'):
        state_dict[EXTRA] = torch.zeros(2, 2)
    return state_dict


@pytest.mark.parametrize('case, key', [('wrong shape', WRONG_SHAPE), ('missing', MISSING), ('extra', EXTRA)])
def test_mmpose_init_model_is_strict_by_default(light_model_cfg, tmp_path, case, key):
    from mmpose.apis import init_model

    from pointhmr.models.official_checkpoint import CheckpointMismatchError
    reference = MODELS.build(light_model_cfg).state_dict()
    path = _save_checkpoint(tmp_path / 'bad.pth', _bad_state_dict(reference, case))
    with pytest.raises(CheckpointMismatchError) as error:
        init_model(_init_model_config(light_model_cfg), path, device='cpu')
    message = str(error.value)
    assert key in message and 'model.load_strict=False' in message
    if case == 'wrong shape':
        rows, width = MODELS.build(light_model_cfg).state_dict()[WRONG_SHAPE].shape
        assert f'{WRONG_SHAPE}: ({rows + 1}, {width}) vs ({rows}, {width})' in message


def test_mmpose_init_model_relaxed_warns_and_loads_the_matching_tensors(light_model_cfg, tmp_path, monkeypatch):
    from mmpose.apis import init_model

    from pointhmr.models.estimators import pointhmr as estimator_module
    torch.manual_seed(1)
    reference = MODELS.build(light_model_cfg).state_dict()
    path = _save_checkpoint(tmp_path / 'bad.pth', _bad_state_dict(reference, 'all'))
    logged = []
    monkeypatch.setattr(estimator_module, 'print_log', lambda message, **kwargs: logged.append((message, kwargs)))
    model = init_model(_init_model_config(light_model_cfg, load_strict=False), path, device='cpu')
    assert len(logged) == 1 and logged[0][1]['level'] == 30
    assert all(key in logged[0][0] for key in (WRONG_SHAPE, MISSING, EXTRA))
    loaded = model.state_dict()
    assert torch.equal(loaded['neck.cam_layer.weight'], reference['neck.cam_layer.weight'])
    assert loaded[WRONG_SHAPE].shape == reference[WRONG_SHAPE].shape and loaded[WRONG_SHAPE].abs().sum() > 0


def test_mmpose_init_model_loads_a_matching_checkpoint(light_model_cfg, tmp_path):
    from mmpose.apis import init_model
    torch.manual_seed(2)
    reference = MODELS.build(light_model_cfg).state_dict()
    path = _save_checkpoint(tmp_path / 'good.pth', reference)
    model = init_model(_init_model_config(light_model_cfg), path, device='cpu')
    loaded = model.state_dict()
    assert set(loaded) == set(reference)
    assert all(torch.equal(loaded[key], reference[key]) for key in reference)


def test_backbone_pretrained_init_and_relaxed_runner_loads_are_not_blocked(light_model_cfg, tmp_path):
    from pointhmr.engine.checkpoint_io import load_model_weights
    torch.manual_seed(3)
    source = MODELS.build(light_model_cfg)
    backbone_path = _save_checkpoint(tmp_path / 'backbone.pth', source.backbone.state_dict())
    cfg = dict(light_model_cfg,
               backbone=dict(light_model_cfg['backbone'], init_cfg=dict(type='Pretrained', checkpoint=backbone_path)))
    model = MODELS.build(cfg)
    model.init_weights()  # loads into the backbone submodule: the estimator's check is not involved
    assert torch.equal(model.backbone.conv1.weight, source.backbone.conv1.weight)
    # the runner / init_mesh_model relaxed path (load_strict=False) checks the weights itself and loads the rest
    report = load_model_weights(model,
                                dict(state_dict=_bad_state_dict(source.state_dict(), 'all')),
                                'bad.pth',
                                strict=False)
    assert MISSING in report.missing and EXTRA in report.unexpected
    assert torch.equal(model.neck.cam_layer.weight, source.neck.cam_layer.weight)
