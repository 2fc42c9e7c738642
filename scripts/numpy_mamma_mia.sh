#!/usr/bin/env bash
# Runs scripts/numpy_mamma_mia.py: numpy's Mamma Mia beside microsim's, in a virtual environment
# of its own (.venv-bench, created with numpy on first use). Usage: scripts/numpy_mamma_mia.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-bench/bin/python ]; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install --quiet numpy
fi
cargo build --release --quiet
.venv-bench/bin/python scripts/numpy_mamma_mia.py "${1:-100}"
