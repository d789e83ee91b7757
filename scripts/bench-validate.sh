#!/usr/bin/env bash
# Whole-process benchmark: `mim6 validate` against compliance-trestle's `trestle validate` on the
# NIST SP 800-53r5 catalog (10 MB), side by side in one hyperfine run.
#
# Installs what it needs: hyperfine (Debian) and compliance-trestle (PyPI, in a venv under
# target/bench-venv). Prints hyperfine's table, which gives the ratio of the two.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/bench-setup.sh
catalog="$repo/tests/fixtures/nist/nist-sp800-53r5/json/NIST_SP-800-53_rev5_catalog.json"

# trestle validates files inside a trestle workspace.
(cd "$work" && "$venv/bin/trestle" init >/dev/null)
mkdir -p "$work/catalogs/nist"
cp "$catalog" "$work/catalogs/nist/catalog.json"

"$venv/bin/trestle" version || true
cd "$work"
hyperfine --warmup 2 --runs "${RUNS:-10}" \
    -n mim6 "$mim6 validate catalogs/nist/catalog.json" \
    -n trestle "$venv/bin/trestle validate -f catalogs/nist/catalog.json"
