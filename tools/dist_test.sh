#!/usr/bin/env bash
# Distributed evaluation with torchrun (exact metrics on any number of processes).
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT on every node (see tools/torchrun.sh).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py args...]" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
TOOLS=$(cd "$(dirname "$0")" && pwd)
exec bash "$TOOLS/torchrun.sh" "$GPUS" "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
