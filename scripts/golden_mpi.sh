#!/usr/bin/env bash
# Same seed, same bytes across MPI ranks: every shipped scenario run under
# `mpirun -np RANKS BINARY` must give the hashes recorded in tests/golden (which one process
# gives). BINARY is a microsim binary built with `--features mpi` (CI uses the random_walkers
# example's, which knows every model).
#
#   scripts/golden_mpi.sh target/release/examples/random_walkers 2
set -euo pipefail
binary=$(realpath "$1")
ranks=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
wrapper=$(mktemp)
trap 'rm -f "$wrapper"' EXIT
cat > "$wrapper" <<WRAP
#!/bin/sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
exec mpirun --oversubscribe -np $ranks "$binary" "\$@"
WRAP
chmod +x "$wrapper"
echo "golden under mpirun -np $ranks:"
python3 "$here/golden.py" check "$wrapper"
