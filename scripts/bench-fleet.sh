#!/usr/bin/env bash
# Whole-process figures of a large fleet: generation (issue: documents/s, MB/s, peak RSS) and
# `mim6 run` on it with 1 and 2 threads (wall time, ingest MB/s, peak RSS).
#
#   CITIES=1000 scripts/bench-fleet.sh      # 1,000 cities × 10 systems × 4 periods (~25 GB)
#
# The fleet is written under target/bench-fleet-$CITIES and removed at the end unless KEEP=1;
# REUSE=1 runs on a fleet kept from before.
# Not run in CI.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cities="${CITIES:-100}"
fleet="$repo/target/bench-fleet-$cities"
out="$repo/target/bench-run-$cities"
(cd "$repo" && cargo build --release --locked --bin mim6)
mim6="$repo/target/release/mim6"

peak() { awk -F': ' '/Maximum resident set size/ {printf "%.0f MB", $2/1024}' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$1"; }

if [ "${REUSE:-0}" = 1 ] && [ -d "$fleet" ]; then
    echo "synth: reusing $fleet"
else
rm -rf "$fleet" "$out"
/usr/bin/time -v "$mim6" synth --cities "$cities" --systems-per-city 10 --periods 4 --seed 1 \
    -o "$fleet" 2> "$out.synth.txt" || { cat "$out.synth.txt"; exit 1; }
echo "synth: $(grep 'documents,' "$out.synth.txt"); peak RSS $(peak "$out.synth.txt")"
fi

cat > "$out.toml" <<TOML
[baseline]
profile = "$repo/profiles/mim6-city-baseline-resolved.json"
[inputs]
folders = ["$fleet"]
[output]
folder = "$out"
TOML
# Each run starts from an empty output folder, on as many CPUs as it has threads (taskset), so
# that "1 thread" is one core for the whole process, the collector's thread included.
for threads in 1 2; do
    rm -rf "$out"
    RAYON_NUM_THREADS=$threads POLARS_MAX_THREADS=$threads /usr/bin/time -v \
        taskset -c "0-$((threads - 1))" \
        "$mim6" run "$out.toml" 2> "$out.run$threads.txt" || { cat "$out.run$threads.txt"; exit 1; }
    python3 - "$out/run.json" "$threads" "$(wall "$out.run$threads.txt")" "$(peak "$out.run$threads.txt")" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
t = run["timings-seconds"]
print(f"run, {sys.argv[2]} thread(s): wall {sys.argv[3]}, peak RSS {sys.argv[4]}, "
      f"{run['documents']['accepted']} documents, {run['documents']['bytes'] / 1e6:.0f} MB, "
      f"ingest {t['ingest']:.1f} s ({run['ingest-mb-per-second']:.0f} MB/s), "
      f"metrics {t['metrics']:.1f} s, write {t['write']:.1f} s")
PY
done
[ "${KEEP:-0}" = 1 ] || rm -rf "$fleet" "$out"
