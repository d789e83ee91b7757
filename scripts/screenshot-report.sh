#!/usr/bin/env bash
# The screenshot of a region page in README.md: runs the example pipeline and renders its first
# region's page with headless Chromium (Debian package chromium) into docs/report-region.png.
#
#   scripts/screenshot-report.sh
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
cargo run --quiet --locked --bin mim6 -- run pipelines/example.toml
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
mkdir -p docs
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --hide-scrollbars --window-size=1200,1700 --screenshot="$repo/docs/report-region.png" \
    "file://$repo/out/example/report/region-region-1.html" 2>/dev/null
echo "docs/report-region.png"
