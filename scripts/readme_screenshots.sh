#!/usr/bin/env bash
# The README's screenshots: report.html and the live view (a finished run through `microsim
# serve`) of Mamma Mia, the what-if sweep and musical chairs, in headless Chromium, into
# docs/img/. Checks that each live page had its data (every replication; a sweep's variants).
#
# Usage: scripts/readme_screenshots.sh [MICROSIM]   (default: target/release/microsim)
# Needs Chromium (Debian: apt-get install -y chromium) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/microsim}
out=docs/img
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
browser=""
for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" > /dev/null 2>&1; then browser=$b; break; fi
done
[[ -n "$browser" ]] || { echo "error: no Chromium found (apt-get install -y chromium)" >&2; exit 2; }

live() { # RUN_DIR PNG
    "$bin" serve "$1" --addr 127.0.0.1:0 2> "$work/serve" &
    local pid=$!
    for _ in $(seq 100); do grep -q "http://" "$work/serve" 2>/dev/null && break; sleep 0.1; done
    local url
    url=$(grep -o 'http://[^ ]*' "$work/serve" | head -1)
    curl -s "${url}state" > "$work/state.json"
    python3 - "$work/state.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
r = s["replications"]
assert s["finished"] and r["done"] == r["planned"] and r["done"] > 0, r
assert s["seed"] and s["file"], "the page shows the seed and the scenario file"
assert all(m["shown"]["mean"] for m in s["metrics"] if m["n"]), "every metric shown"
print(f'{s["scenario"]}: {r["done"]} of {r["planned"]} replications, {len(s["variants"])} variants')
PY
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --user-data-dir="$work/profile" --window-size=1280,1500 --virtual-time-budget=2500 \
        --screenshot="$PWD/$2" "${url}?poll" > /dev/null 2>&1 || true
    [[ -s "$2" ]] || { echo "error: no screenshot of $url" >&2; exit 1; }
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

for s in mamma_mia mamma_mia_whatif musical_chairs; do
    "$bin" run "scenarios/$s.toml" --out "$work/$s" --quiet
    scripts/screenshot.sh "$work/$s" "$out/report-$s.png" 1280x2000 > /dev/null
    live "$work/$s" "$out/live-$s.png"
done
ls -l "$out"
