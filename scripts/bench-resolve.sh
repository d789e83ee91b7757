#!/usr/bin/env bash
# Whole-process benchmark: resolving NIST's SP 800-53r5 MODERATE baseline against the bundled
# 5.2.0 catalog with `mim6 resolve` and with compliance-trestle's ProfileResolver, side by side
# in one hyperfine run (median of 5 runs each), and their ratio.
#
# Installs what it needs: hyperfine (Debian) and compliance-trestle (PyPI, in a venv under
# target/bench-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-setup.sh

# NIST's profile cites the catalog through a back-matter rlink that is relative to NIST's own
# repository (../../../../nist.gov/...). Lay the files out so that the JSON rlink resolves the
# same way for both tools: trestle resolves it against the working directory, mim6 against the
# profile's folder, and here they are one folder, which mim6 is told it may read from
# (`--root`). Only the JSON rlink is kept.
nist="$repo/tests/fixtures/nist/nist-sp800-53r5/json"
mkdir -p "$work/nist.gov/SP800-53/rev5/json" "$work/a/b/c/d"
cp "$nist/NIST_SP-800-53_rev5_catalog.json" "$work/nist.gov/SP800-53/rev5/json/"
python3 - "$nist/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json" "$work/a/b/c/d/profile.json" <<'PY'
import json, sys
profile = json.load(open(sys.argv[1]))
for resource in profile["profile"]["back-matter"]["resources"]:
    resource["rlinks"] = [r for r in resource.get("rlinks", []) if r["href"].endswith(".json")]
json.dump(profile, open(sys.argv[2], "w"), indent=1)
PY
cat > "$work/trestle_resolve.py" <<'PY'
import pathlib, sys
from trestle.core.profile_resolver import ProfileResolver
catalog = ProfileResolver.get_resolved_profile_catalog(pathlib.Path(sys.argv[1]), sys.argv[2])
count = 0
stack = list(catalog.groups or [])
while stack:
    group = stack.pop()
    for control in group.controls or []:
        count += 1
        stack.extend([])
print(count, file=sys.stderr)
PY
(cd "$work" && "$venv/bin/trestle" init >/dev/null)

cd "$work/a/b/c/d"
hyperfine -N --warmup 3 --runs 5 --export-json "$work/result.json" \
    -n mim6 "$mim6 resolve profile.json --root $work -o $work/mim6-out.json" \
    -n trestle "$venv/bin/python $work/trestle_resolve.py $work profile.json"
python3 - "$work/result.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
mim6, trestle = results["mim6"]["median"], results["trestle"]["median"]
print(f"median mim6 {mim6 * 1000:.1f} ms, trestle {trestle * 1000:.1f} ms, ratio {trestle / mim6:.1f}x")
PY
