#!/usr/bin/env bash
# Distributed training with torchrun (NCCL on GPUs, gloo on CPU; chosen by tools/train.py).
#   bash tools/dist_train.sh CONFIG GPUS [train.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on every node (see tools/torchrun.sh).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG GPUS [train.py args...]" >&2
  exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
TOOLS=$(cd "$(dirname "$0")" && pwd)
exec bash "$TOOLS/torchrun.sh" "$GPUS" "$TOOLS/train.py" "$CONFIG" --launcher pytorch "$@"
