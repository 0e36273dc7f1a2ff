"""pointhmr: PointHMR (CVPR 2023) 3D human mesh recovery as an MMEngine / mmpose plugin.

``install_requires`` lists only what pip can resolve by itself (requirements/runtime.txt: pure-Python / manylinux
packages, none of which pulls torch or chumpy). As in OpenMMLab packages, torch and the compiled OpenMMLab stack are
prerequisites, not requirements: ``bash tools/install.sh`` installs the pinned, tested stack (requirements/stack.txt:
CPU torch, mmcv with ops, xtcocotools for numpy 2, mmdet/mmpose without chumpy, smplx) and then this package.
Extras: ``tests`` (requirements/tests.txt) and ``deploy`` (requirements/deploy.txt: onnx, onnxruntime).
"""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def read_requirements(name: str) -> list:
    lines = (ROOT / 'requirements' / name).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]


def read_version() -> str:
    scope: dict = {}
    exec((ROOT / 'pointhmr' / 'version.py').read_text(), scope)
    return scope['__version__']


setup(
    name='pointhmr',
    version=read_version(),
    description='PointHMR: point-guided 3D human mesh reconstruction for MMEngine / mmpose',
    long_description=(ROOT / 'README.md').read_text() if (ROOT / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    license='MIT',
    python_requires='>=3.11,<3.12',
    packages=find_packages(include=['pointhmr', 'pointhmr.*']),
    include_package_data=True,
    package_data={'pointhmr': ['py.typed']},
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        'deploy': read_requirements('deploy.txt'),
    },
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
