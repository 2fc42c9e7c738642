#!/usr/bin/env bash
# Renders a result directory's report.html in headless Chromium and saves a PNG screenshot,
# to check in a real browser what `microsim plot` drew (layout, images, tables).
#
# Usage: scripts/screenshot.sh RUN_DIR [OUT.png] [WIDTHxHEIGHT]
#   RUN_DIR       a result directory with report.html (written by `microsim run` / `microsim plot`)
#   OUT.png       where to write the screenshot (default: RUN_DIR/report.png)
#   WIDTHxHEIGHT  the browser window (default: 1280x2400)
#
# Needs Chromium (Debian: apt-get install -y chromium). Nothing is fetched from the network:
# the report is a static page with relative image paths.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 || "$1" == "-h" || "$1" == "--help" ]]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

dir=$1
report="$dir/report.html"
if [[ ! -f "$report" ]]; then
    echo "error: $report does not exist (run \`microsim plot $dir\` first)" >&2
    exit 2
fi
out=${2:-"$dir/report.png"}
size=${3:-1280x2400}
if [[ ! "$size" =~ ^[0-9]+x[0-9]+$ ]]; then
    echo "error: window size must look like 1280x2400, not $size" >&2
    exit 2
fi

browser=""
for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" > /dev/null 2>&1; then
        browser=$b
        break
    fi
done
if [[ -z "$browser" ]]; then
    echo "error: no Chromium found; install it (Debian: apt-get install -y chromium)" >&2
    exit 2
fi

abs_report=$(cd "$(dirname "$report")" && pwd)/report.html
case "$out" in
    /*) abs_out=$out ;;
    *) abs_out=$(pwd)/$out ;;
esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --user-data-dir="$profile" --screenshot="$abs_out" --window-size="${size/x/,}" \
    "file://${abs_report// /%20}" > /dev/null 2>&1 || {
    echo "error: $browser failed to render $abs_report" >&2
    exit 1
}
if [[ ! -s "$abs_out" ]]; then
    echo "error: no screenshot was written to $abs_out" >&2
    exit 1
fi
echo "$abs_out"
