"""setup.py: pip can install the package without resolving torch, a CUDA build or chumpy; wheels carry the configs.

The metadata comes from ``setup.py egg_info`` (what pip reads); the dependency closure is walked through the installed
distributions' own metadata, so a requirement that pulls torch indirectly (as smplx or mmpose do) is caught too.
"""
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Set

import pytest
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[1]
#: distributions that only tools/install.sh may install (plain resolution would pick a CUDA torch or fail on chumpy)
FORBIDDEN = {
    'torch', 'torchvision', 'torchaudio', 'chumpy', 'mmcv', 'mmcv-full', 'mmdet', 'mmpose', 'smplx', 'xtcocotools',
    'triton'
}


def normalise(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def is_forbidden(name: str) -> bool:
    return normalise(name) in FORBIDDEN or normalise(name).startswith('nvidia-')


@pytest.fixture(scope='module')
def requires(tmp_path_factory) -> Dict[str, List[Requirement]]:
    """``requires.txt`` written by ``setup.py egg_info``: {'': install_requires, extra: requirements}."""
    out = tmp_path_factory.mktemp('egg_info')
    subprocess.run([sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base',
                    str(out)],
                   cwd=REPO_ROOT,
                   check=True,
                   capture_output=True)
    sections: Dict[str, List[Requirement]] = {'': []}
    current = ''
    for line in next(out.glob('*.egg-info')).joinpath('requires.txt').read_text().splitlines():
        if line.startswith('['):
            current = line.strip('[]')
            sections[current] = []
        elif line.strip():
            sections[current].append(Requirement(line))
    return sections


def requirement_file(name: str) -> List[Requirement]:
    lines = (REPO_ROOT / 'requirements' / name).read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith('#')]


def installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def closure(requirements: List[Requirement]) -> Set[str]:
    """Every distribution reachable from ``requirements`` through installed metadata (no extras of dependencies)."""
    seen: Set[str] = set()
    todo = [r.name for r in requirements if r.marker is None or r.marker.evaluate()]
    while todo:
        name = normalise(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dependencies = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f'{name} is required by pointhmr (or a dependency) but not installed; run tools/install.sh')
        for text in dependencies:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({'extra': ''}):
                todo.append(requirement.name)
    return seen


def test_install_requires_is_runtime_txt_and_pulls_no_torch_stack(requires):
    names = [normalise(r.name) for r in requires['']]
    assert names == [normalise(r.name) for r in requirement_file('runtime.txt')]
    assert not [n for n in names if is_forbidden(n)]
    reachable = closure(requires[''])
    assert 'mmengine' in reachable and 'numpy' in reachable
    assert not sorted(n for n in reachable if is_forbidden(n)), 'install_requires pulls the torch / chumpy stack'


def test_extras_tests_and_deploy(requires):
    assert set(requires) == {'', 'tests', 'deploy'}
    assert [str(r) for r in requires['tests']] == [str(r) for r in requirement_file('tests.txt')]
    deploy = {normalise(r.name): r for r in requires['deploy']}
    assert set(deploy) == {'onnx', 'onnxruntime'}
    for requirement in deploy.values():  # pinned: the exported graphs are checked against these versions
        assert len(requirement.specifier) == 1 and next(iter(requirement.specifier)).operator == '=='
    assert not sorted(n for n in closure(requires['tests']) if is_forbidden(n))
    if not all(installed(name) for name in deploy):
        pytest.skip('deploy extras not installed here (bash tools/install.sh --deploy)')
    assert not sorted(n for n in closure(requires['deploy']) if is_forbidden(n))


def test_install_script_installs_the_pinned_stack():
    """Every pin of requirements/stack.txt is installed by tools/install.sh: literally, or as a pip constraint of the
    runtime requirements (then the package must be one of them)."""
    script = [
        line for line in (REPO_ROOT / 'tools' / 'install.sh').read_text().splitlines()
        if not line.lstrip().startswith('#')
    ]
    body = '\n'.join(script)
    constrained = '-r "$ROOT/requirements/runtime.txt" -c "$ROOT/requirements/stack.txt"' in body
    runtime = {normalise(r.name) for r in requirement_file('runtime.txt')}
    for pin in requirement_file('stack.txt'):
        (spec, ) = pin.specifier
        assert spec.operator == '==', f'requirements/stack.txt must pin exact versions, got {pin}'
        literal = f'{pin.name}=={spec.version}' in body
        assert literal or (constrained and normalise(pin.name) in runtime), f'tools/install.sh does not install {pin}'


def test_stack_pins_satisfy_the_runtime_ranges():
    pins = {normalise(r.name): next(iter(r.specifier)).version for r in requirement_file('stack.txt')}
    for requirement in requirement_file('runtime.txt'):
        if normalise(requirement.name) in pins:
            assert requirement.specifier.contains(pins[normalise(requirement.name)]), requirement


def test_wheel_carries_configs_tools_and_model_index(tmp_path):
    """``pip install .`` installs a wheel: it must hold the configs (pointhmr/.mim, OpenMMLab's layout) and metadata
    without the torch / chumpy stack. Built offline from a copy of the sources, so the checkout stays untouched."""
    source = tmp_path / 'src'
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim', '*.egg-info')
    for name in ('pointhmr', 'configs', 'tools', 'requirements'):
        shutil.copytree(REPO_ROOT / name, source / name, ignore=ignore)
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'LICENSE', 'model-index.yml'):
        shutil.copyfile(REPO_ROOT / name, source / name)
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '--no-index', '-w',
        str(tmp_path / 'dist'),
        str(source)
    ],
                   check=True,
                   capture_output=True,
                   timeout=600)
    (wheel, ) = (tmp_path / 'dist').glob('pointhmr-*.whl')
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
    configs = {
        f'pointhmr/.mim/{p.relative_to(REPO_ROOT).as_posix()}'
        for p in (REPO_ROOT / 'configs').rglob('*') if p.is_file() and p.suffix in ('.py', '.yml', '.md')
    }
    assert configs and configs <= names, sorted(configs - names)
    assert {'pointhmr/.mim/model-index.yml', 'pointhmr/.mim/tools/train.py', 'pointhmr/py.typed'} <= names
    requires = [
        Requirement(line.split(':', 1)[1]) for line in metadata.splitlines() if line.startswith('Requires-Dist')
    ]
    assert requires and not [r.name for r in requires if is_forbidden(r.name)]
