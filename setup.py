"""pointhmr: PointHMR (CVPR 2023) 3D human mesh recovery as an MMEngine / mmpose plugin.

Install with ``bash tools/install.sh`` (see README): the OpenMMLab stack on CPU torch needs a few steps that plain
dependency resolution cannot do (mmcv built with ops, xtcocotools rebuilt for numpy 2, mmpose without chumpy).
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
    install_requires=read_requirements('stack.txt') + read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    classifiers=[
        'Programming Language :: Python :: 3.11',
        'License :: OSI Approved :: MIT License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
