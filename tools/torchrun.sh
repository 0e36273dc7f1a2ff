#!/usr/bin/env bash
# Shared torchrun launcher of tools/dist_train.sh and tools/dist_test.sh.
#   bash tools/torchrun.sh NPROC_PER_NODE SCRIPT [script args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on every node.
# Interpreter: $PYTHON, else the project's .venv (tools/install.sh), else `python` from PATH.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 NPROC_PER_NODE SCRIPT [args...]" >&2
  exit 2
fi
NPROC=$1
SCRIPT=$2
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${MASTER_PORT:-29500}" \
    --nproc_per_node="$NPROC" \
    "$SCRIPT" "$@"
