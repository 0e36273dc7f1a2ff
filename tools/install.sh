#!/usr/bin/env bash
# Install pointhmr and its pinned OpenMMLab stack (CPU torch 2.13.0, Python 3.11) into a virtual environment.
#
#   bash tools/install.sh            # runtime
#   bash tools/install.sh --tests    # runtime + test extras (requirements/tests.txt, and deploy.txt: tests cover it)
#   bash tools/install.sh --deploy   # runtime + ONNX export / onnxruntime (requirements/deploy.txt)
#
# The pinned versions are those of requirements/stack.txt (a test checks that this script installs exactly them).
#
# Environment:
#   VENV             target virtual environment (default: <repo>/.venv; created when missing)
#   PYTHON           interpreter used to create it (default: python3)
#   POINTHMR_WHEELS  optional folder of prebuilt wheels used as a cache (mmcv 2.1.0 with ops for torch 2.13.0 CPU,
#                    xtcocotools 1.14.3 built for numpy 2). Without it mmcv is compiled from source (about 15 min).
# Re-running is cheap: every step is skipped when its package already works.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
WHEELS=${POINTHMR_WHEELS:-}
WITH_TESTS=0
WITH_DEPLOY=0
for arg in "$@"; do
  case "$arg" in
    --tests) WITH_TESTS=1; WITH_DEPLOY=1 ;;
    --deploy) WITH_DEPLOY=1 ;;
    *) echo "install.sh: unknown argument '$arg' (expected --tests and/or --deploy)" >&2; exit 2 ;;
  esac
done
step() { printf '[install] %s\n' "$*" >&2; }

[ -x "$VENV/bin/python" ] || { step "creating virtual environment $VENV"; "$PYTHON" -m venv "$VENV"; }
PY="$VENV/bin/python"
PIP=("$PY" -m pip install -q --disable-pip-version-check)
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || { echo "install.sh: Python 3.11 is required (mmcv 2.1.0 is built for cp311); set PYTHON=python3.11" >&2; exit 1; }
works() { "$PY" -c "$1" >/dev/null 2>&1; }
cached_wheel() { [ -n "$WHEELS" ] && ls "$WHEELS"/$1 2>/dev/null | head -n 1; }

# 1. torch: pinned CPU build (a bare `torch` requirement would pull a multi-GB CUDA build).
works 'import torch; assert torch.__version__.startswith("2.13.0")' \
  || { step "torch==2.13.0"; "${PIP[@]}" torch==2.13.0; }
# 2. build tools; setuptools<81 keeps pkg_resources, which mmcv's setup.py and mmengine import.
works 'import setuptools, numpy, Cython, wheel; assert int(setuptools.__version__.split(".")[0]) < 81; assert numpy.__version__.startswith("2.")' \
  || { step "build tools"; "${PIP[@]}" 'setuptools>=77.0.3,<81' wheel ninja 'numpy>=2,<2.5' 'cython>=3'; }
# 3. pure-Python / manylinux runtime requirements (mmengine, opencv, scipy, ...): mmcv imports them. stack.txt as
#    constraints pins the tested versions (mmengine==0.10.7) without installing anything else.
step "runtime requirements"
"${PIP[@]}" -r "$ROOT/requirements/runtime.txt" -c "$ROOT/requirements/stack.txt"
# 4. mmcv 2.1.0 with compiled ops (mmdet 3.3.0 needs <2.2.0; mmcv-lite lacks mmcv._ext which mmpose.models imports).
MMCV_OK='import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"; from mmcv.ops import nms'
if ! works "$MMCV_OK"; then
  whl=$(cached_wheel 'mmcv-2.1.0-cp311-*.whl' || true)
  if [ -n "$whl" ]; then step "mmcv 2.1.0 from cached wheel $whl"; "${PIP[@]}" --no-deps --force-reinstall "$whl"; fi
  if ! works "$MMCV_OK"; then
    step "building mmcv 2.1.0 with CPU ops from source (about 15 minutes on 2 cores)"
    env MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-2} CFLAGS="-g0" "${PIP[@]}" --no-build-isolation --no-deps --force-reinstall mmcv==2.1.0
  fi
  works "$MMCV_OK" || { echo "install.sh: mmcv 2.1.0 with ops does not import; see the log above" >&2; exit 1; }
fi
# 5. xtcocotools 1.14.3: the published binary is built for numpy 1; use a numpy-2 build (cache) or patch the sdist.
XTC_OK='import numpy as np, xtcocotools.mask as m; r = m.encode(np.asfortranarray(np.ones((4, 4, 1), np.uint8))); assert m.area(r)[0] == 16'
if ! works "$XTC_OK"; then
  whl=$(cached_wheel 'xtcocotools-1.14.3-cp311-*.whl' || true)
  if [ -n "$whl" ]; then step "xtcocotools from cached wheel $whl"; "${PIP[@]}" --no-deps --force-reinstall "$whl"; fi
  if ! works "$XTC_OK"; then
    step "building xtcocotools 1.14.3 for numpy 2"
    SRC=$(mktemp -d)
    "$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation xtcocotools==1.14.3 -d "$SRC"
    tar -xzf "$SRC"/xtcocotools-1.14.3.tar.gz -C "$SRC"
    sed -i 's/np\.NPY_OWNDATA/np.NPY_ARRAY_OWNDATA/' "$SRC"/xtcocotools-1.14.3/xtcocotools/_mask.pyx
    "${PIP[@]}" --no-build-isolation --no-deps --force-reinstall "$SRC"/xtcocotools-1.14.3
    rm -rf "$SRC"
  fi
  works "$XTC_OK" || { echo "install.sh: xtcocotools does not work with numpy 2; see the log above" >&2; exit 1; }
fi
# 6. mmdet/mmpose/smplx without their metadata dependencies (mmpose lists chumpy, which does not build, and
#    torchvision, whose wheel breaks beside CPU torch; smplx lists a bare torch). Their real imports are all installed.
works 'import importlib.metadata as m; assert m.version("mmdet") == "3.3.0" and m.version("mmpose") == "1.3.2" and m.version("smplx") == "0.1.28"' \
  || { step "mmdet 3.3.0, mmpose 1.3.2, smplx 0.1.28 (--no-deps)"; "${PIP[@]}" --no-deps mmdet==3.3.0 mmpose==1.3.2 smplx==0.1.28; }
# 7. pointhmr itself, editable, without re-resolving the stack above.
step "pointhmr (editable)"
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"
if [ "$WITH_TESTS" = 1 ]; then step "test requirements"; "${PIP[@]}" -r "$ROOT/requirements/tests.txt"; fi
if [ "$WITH_DEPLOY" = 1 ]; then step "deploy requirements"; "${PIP[@]}" -r "$ROOT/requirements/deploy.txt"; fi
works 'import pointhmr' || { echo "install.sh: 'import pointhmr' failed after install" >&2; "$PY" -c 'import pointhmr'; exit 1; }
step "done: $VENV (python: $PY)"
