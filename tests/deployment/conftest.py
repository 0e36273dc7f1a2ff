"""Fixtures of the deployment tests: the light model with random non-trivial weights and BatchNorm statistics, its
config file, a dynamic-batch .onnx export of it, and a real photo."""
import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

pytest.importorskip('onnx', reason='deployment extras missing: pip install -r requirements/deploy.txt')
pytest.importorskip('onnxruntime', reason='deployment extras missing: pip install -r requirements/deploy.txt')

REPO = Path(__file__).resolve().parents[2]


def _load_setup():
    """tests/apis/light_model_setup.py, loaded by path (test folders are not packages)."""
    spec = importlib.util.spec_from_file_location('pointhmr_tests_light_model_setup_deployment',
                                                  REPO / 'tests' / 'apis' / 'light_model_setup.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SETUP = _load_setup()


def randomise(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial weights: every parameter redrawn at its own scale, BatchNorm affine and running statistics random
    (so folding them into the convolutions is exercised), eval mode, deploy mode rebuilt from the new weights."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                channels = module.num_features
                module.running_mean.copy_(0.2 * torch.randn(channels, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(channels, generator=generator))
                module.weight.copy_(0.8 + 0.4 * torch.rand(channels, generator=generator))
                module.bias.copy_(0.1 * torch.randn(channels, generator=generator))
            elif isinstance(module, nn.LayerNorm):
                module.weight.copy_(0.8 + 0.4 * torch.rand(module.weight.shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
            else:
                for parameter in module.parameters(recurse=False):
                    scale = float(parameter.std()) if parameter.numel() > 1 else 0.1
                    parameter.add_(0.5 * scale * torch.randn(parameter.shape, generator=generator))
    model.eval()
    if callable(getattr(model, 'switch_to_deploy', None)):  # eager fast path caches from the new weights
        model.switch_to_deploy()
    return model


def random_crops(batch: int, seed: int = 0) -> torch.Tensor:
    """Normalised crops (B, 3, 224, 224) as the data preprocessor outputs them (random values)."""
    return torch.randn(batch, 3, 224, 224, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope='session')
def randomise_weights():
    return randomise


@pytest.fixture(scope='session')
def crops():
    return random_crops


@pytest.fixture(scope='session')
def light_cfg():
    return SETUP.light_config()


@pytest.fixture(scope='session')
def light_config_file(tmp_path_factory, light_cfg) -> Path:
    path = tmp_path_factory.mktemp('deploy_cfg') / 'pointhmr_light_infer.py'
    light_cfg.dump(str(path))
    return path


@pytest.fixture(scope='session')
def light_model(light_cfg):
    from pointhmr.apis import init_mesh_model
    model = init_mesh_model(light_cfg, 'none', device='cpu')
    model.random_weights = False
    return randomise(model)


@pytest.fixture(scope='session')
def light_checkpoint(tmp_path_factory, light_model) -> Path:
    """The random light weights saved like an mmengine checkpoint."""
    path = tmp_path_factory.mktemp('deploy_ckpt') / 'light.pth'
    torch.save(dict(meta=dict(), state_dict=light_model.state_dict()), path)
    return path


@pytest.fixture(scope='session')
def light_onnx(tmp_path_factory, light_model, light_cfg, light_config_file):
    """Dynamic-batch export of the light model; Winograd on every 3x3 convolution at least 8 channels wide (the light
    model's are narrower than the default threshold), so the tests cover it. Returns (path, verification diffs)."""
    from pointhmr.deployment.onnx_export import export_onnx
    path = tmp_path_factory.mktemp('deploy_onnx') / 'light.onnx'
    diffs = export_onnx(light_model,
                        light_cfg,
                        path,
                        dynamic_batch=True,
                        config_name=str(light_config_file),
                        checkpoint_name='light.pth',
                        winograd_min_channels=8)
    return path, diffs


@pytest.fixture(scope='session')
def grace_hopper() -> Path:
    return SETUP.grace_hopper_path()
