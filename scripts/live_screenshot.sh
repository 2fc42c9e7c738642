#!/usr/bin/env bash
# Renders the live view in headless Chromium mid-run and at the end, saves two PNG screenshots,
# and checks that the page had data: mid-run some replications were done and not all; at the
# end the run is finished and the replications are all there.
#
# Usage: scripts/live_screenshot.sh [MICROSIM] [OUT_DIR]
#   MICROSIM  the binary (default: target/release/microsim)
#   OUT_DIR   where the screenshots go (default: outputs/live)
#
# Needs Chromium (Debian: apt-get install -y chromium) and curl. The page loads nothing from
# the network.
set -euo pipefail

bin=${1:-target/release/microsim}
out=${2:-outputs/live}
mkdir -p "$out"
out=$(cd "$out" && pwd)
browser=""
for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" > /dev/null 2>&1; then browser=$b; break; fi
done
[[ -n "$browser" ]] || { echo "error: no Chromium found (apt-get install -y chromium)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

shoot() { # URL PNG (the page polls instead of streaming: headless Chromium waits for an idle network)
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
        --user-data-dir="$work/profile" --window-size=1280,1700 --virtual-time-budget=2500 \
        --screenshot="$2" "$1?poll" > /dev/null 2>&1 || true
    [[ -s "$2" ]] || { echo "error: no screenshot of $1" >&2; exit 1; }
}
field() { # JSON-FILE PYTHON-EXPRESSION-ON-s
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$1"
}

# A Monte Carlo run long enough to be caught mid-way: 60,000 small gift lotteries.
"$bin" run scenarios/mamma_mia.toml --replications 60000 --set model.items=20000 \
    --set model.bins=60000 --threads 1 --serve 127.0.0.1:0 --out "$work/run" --quiet \
    2> "$work/stderr" &
for _ in $(seq 100); do
    grep -q "live view:" "$work/stderr" 2>/dev/null && break
    sleep 0.1
done
url=$(grep -o 'http://[^ ]*' "$work/stderr" | head -1)
[[ -n "$url" ]] || { echo "error: the run printed no address" >&2; cat "$work/stderr" >&2; exit 1; }
sleep 3
curl -s "${url}state" > "$work/mid.json"
shoot "$url" "$out/live-mid-run.png"
mid=$(field "$work/mid.json" 's["replications"]["done"]')
planned=$(field "$work/mid.json" 's["replications"]["planned"]')
[[ "$mid" -gt 0 && "$mid" -lt "$planned" ]] || {
    echo "error: mid-run the page shows $mid of $planned replications" >&2; exit 1; }
wait %1

# The finished result directory, through `microsim serve`.
"$bin" serve "$work/run" --addr 127.0.0.1:0 2> "$work/serve" &
for _ in $(seq 100); do
    grep -q "http://" "$work/serve" 2>/dev/null && break
    sleep 0.1
done
url=$(grep -o 'http://[^ ]*' "$work/serve" | head -1)
shoot "$url" "$out/live-finished.png"
curl -s "${url}state" > "$work/end.json"
end=$(field "$work/end.json" 's["replications"]["done"]')
finished=$(field "$work/end.json" 's["finished"] is not None')
[[ "$end" == "$planned" && "$finished" == "True" ]] || {
    echo "error: at the end the page shows $end of $planned, finished: $finished" >&2; exit 1; }
echo "mid-run: $mid of $planned replications; at the end: $end, finished"
echo "$out/live-mid-run.png"
echo "$out/live-finished.png"
