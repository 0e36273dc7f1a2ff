"""pointhmr: PointHMR (CVPR 2023) 3D human mesh recovery as an MMEngine / mmpose plugin.

``install_requires`` lists only what pip can resolve by itself (requirements/runtime.txt: pure-Python / manylinux
packages, none of which pulls torch or chumpy). As in OpenMMLab packages, torch and the compiled OpenMMLab stack are
prerequisites, not requirements: ``bash tools/install.sh`` installs the pinned, tested stack (requirements/stack.txt:
CPU torch, mmcv with ops, xtcocotools for numpy 2, mmdet/mmpose without chumpy, smplx) and then this package.
Extras: ``tests`` (requirements/tests.txt) and ``deploy`` (requirements/deploy.txt: onnx, onnxruntime).

A wheel (``pip install .``) carries copies of ``configs/``, ``tools/`` and ``model-index.yml`` in ``pointhmr/.mim/``
(OpenMMLab's layout), so that code loading the repository's configs works without the source checkout; an editable
install reads them from the checkout itself.
"""
import shutil
import sys
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def read_requirements(name: str) -> list:
    lines = (ROOT / 'requirements' / name).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith('#')]


#: what a wheel carries under pointhmr/.mim (mim's layout)
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def add_mim_extension() -> None:
    """Copy :data:`MIM_FILES` into ``pointhmr/.mim`` when building a wheel or an sdist (not for editable installs)."""
    if not {'bdist_wheel', 'sdist'} & set(sys.argv):
        return
    mim = ROOT / 'pointhmr' / '.mim'
    mim.mkdir(exist_ok=True)
    for name in MIM_FILES:
        source, target = ROOT / name, mim / name
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        elif source.is_file():
            shutil.copyfile(source, target)


def read_version() -> str:
    scope: dict = {}
    exec((ROOT / 'pointhmr' / 'version.py').read_text(), scope)
    return scope['__version__']


add_mim_extension()
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
    package_data={'pointhmr': ['py.typed', '.mim/**/*']},
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
