#!/usr/bin/env bash
# Runs the ABM framework comparison's own Mesa benchmarks (mesa==3.2.0), the peer figures that
# microsim's ABM models (WolfSheep, Flocking, Schelling, ForestFire) are timed beside.
#
# Usage: scripts/abm_peers.sh [COMPARISON_DIR] [MODEL...]        MODEL: WolfSheep Flocking Schelling ForestFire
#   COMPARISON_DIR (or env ABM_COMPARISON): a checkout of JuliaDynamics/ABMFrameworksComparison (GitHub).
#   ForestFire is no longer at that repository's HEAD; it is at commit ea70076. Get it with git and point
#   ABM_FORESTFIRE at the folder that holds ForestFire/ (it is skipped when unset):
#     git -C "$ABM_COMPARISON" worktree add /tmp/abm-ff ea70076       # or, from a bare clone:
#     mkdir /tmp/abm-ff && git --git-dir=REPO.git archive ea70076 ForestFire | tar -x -C /tmp/abm-ff
#     ABM_FORESTFIRE=/tmp/abm-ff scripts/abm_peers.sh "$ABM_COMPARISON"
#
# Makes target/abm-venv (mesa==3.2.0 and its dependencies from PyPI) when it is missing, then runs each
# model's Mesa/benchmark_<model>.py from the comparison's root, as its runall.sh does: in-process timeit,
# 100 runs of construct + all steps, the median (sorted[50]); it prints their lines, e.g.
# "Mesa Schelling-small (ms): 68.1" (their setup re-seeds, so all 100 runs of a size replay one seed). Nothing of
# theirs is copied here or built (so no MASON: that needs javac). All four models take ~15 minutes on the 2-core
# box (Flocking-large ~7); medians moved up to 60% between sittings under load, so time microsim in the same sitting.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cmp="${1:-${ABM_COMPARISON:-}}"; [ $# -gt 0 ] && shift
[ -n "$cmp" ] && [ -d "$cmp" ] || { echo "usage: $0 COMPARISON_DIR [MODEL...] (or set ABM_COMPARISON)" >&2; exit 2; }
cmp="$(cd "$cmp" && pwd)"
venv="$root/target/abm-venv"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install --quiet mesa==3.2.0
fi
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(WolfSheep Flocking Schelling ForestFire)
for m in "${models[@]}"; do
    dir="$cmp"
    if [ "$m" = ForestFire ]; then
        [ -n "${ABM_FORESTFIRE:-}" ] || { echo "ForestFire skipped: set ABM_FORESTFIRE (see header)" >&2; continue; }
        dir="$(cd "$ABM_FORESTFIRE" && pwd)"; [ -d "$dir/Mesa" ] && dir="$(dirname "$dir")"
    fi
    bench="$m/Mesa/benchmark_$(tr '[:upper:]' '[:lower:]' <<<"$m").py"
    [ -f "$dir/$bench" ] || { echo "missing $dir/$bench" >&2; exit 1; }
    (cd "$dir" && "$venv/bin/python" "$bench")
done
