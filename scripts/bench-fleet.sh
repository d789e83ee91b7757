#!/usr/bin/env bash
# Whole-process figures of a large fleet: generation (documents/s, MB/s, peak RSS) and `mim6 run`
# on it with 1 and 2 threads (wall time, ingest MB/s and its ratio to a bare JSON scan of the same
# files with as many threads just before, the faster of two rounds; peak RSS; what was read from
# disk rather than the page cache; the speedup from 1 to 2 threads, of the whole run and of each
# phase, beside the bare scan's own). Ingest alone (the `ingest` example: everything a run does
# before its collector takes the rows, the rows counted and let go) is measured beside the scan,
# the faster of two rounds too: a run's ingest phase also writes the fact tables as they come.
#
#   CITIES=1000 scripts/bench-fleet.sh      # 1,000 cities × 10 systems × 4 periods (~25 GB)
#
# Each `mim6 run` is measured RUNS times (default 2), the fastest round's figures reported and
# the highest peak RSS: on a machine whose disk and page cache are shared, one round's wall time
# moves by several percent from one run to the next.
#
# The fleet is written under target/bench-fleet-$CITIES and removed at the end unless KEEP=1;
# REUSE=1 runs on a fleet kept from before. COLD=1 empties the page cache before each scan and
# run (as root), so that every file is read from disk: the case of a fleet larger than memory.
# Not run in CI.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cities="${CITIES:-100}"
runs="${RUNS:-2}"
fleet="$repo/target/bench-fleet-$cities"
out="$repo/target/bench-run-$cities"
(cd "$repo" && cargo build --release --locked --bin mim6 &&
    cargo build --release --locked -p mim6-ingest --example scan --example ingest)
mim6="$repo/target/release/mim6"
scan="$repo/target/release/examples/scan"
ingest="$repo/target/release/examples/ingest"

# Before each scan, ingest and run: what the last run wrote is flushed to disk first, so that
# its writeback does not overlap what is measured next; with COLD=1 the page cache is emptied.
settle() {
    sync
    if [ "${COLD:-0}" = 1 ]; then
        echo 3 > /proc/sys/vm/drop_caches || { echo "COLD=1 needs root" >&2; exit 1; }
    fi
}
peak() { awk -F': ' '/Maximum resident set size/ {printf "%.0f MB", $2/1024}' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$1"; }
# What a process read from disk (its block inputs, 512 bytes each), not from the page cache.
disk() { awk -F': ' '/File system inputs/ {printf "%.1f GB", $2 * 512 / 1e9}' "$1"; }
# The faster round of a scan, in MB/s (its lines end "…, 603.0 MB/s").
scan_mbs() { awk -F', ' '{split($NF, v, " "); if (v[1] + 0 > best + 0) best = v[1]} END {print best}' "$1"; }

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
    # The scan's yardstick is its faster of two rounds.
    for round in 1 2; do
        settle
        RAYON_NUM_THREADS=$threads /usr/bin/time -v -o "$out.scan$threads.$round.txt" \
            taskset -c "0-$((threads - 1))" "$scan" "$fleet"
    done > "$out.scan$threads.txt"
    for round in 1 2; do
        settle
        RAYON_NUM_THREADS=$threads taskset -c "0-$((threads - 1))" "$ingest" "$fleet" | grep "MB/s"
    done > "$out.ingest$threads.txt"
    awk -v alone="$(scan_mbs "$out.ingest$threads.txt")" -v bare="$(scan_mbs "$out.scan$threads.txt")" \
        -v threads="$threads" 'BEGIN {
        printf "ingest alone, %s thread(s): %.0f MB/s (bare scan %.0f MB/s, %.0f %% of it)\n",
            threads, alone, bare, 100 * alone / bare }'
    # The run's figures are its fastest of $RUNS rounds (each from an empty output folder),
    # its peak RSS the highest of them.
    best=""
    for round in $(seq "$runs"); do
        rm -rf "$out"
        settle
        RAYON_NUM_THREADS=$threads POLARS_MAX_THREADS=$threads /usr/bin/time -v \
            taskset -c "0-$((threads - 1))" \
            "$mim6" run "$out.toml" 2> "$out.run$threads.$round.txt" ||
            { cat "$out.run$threads.$round.txt"; exit 1; }
        cp "$out/run.json" "$out.run$threads.$round.json"
        best="$(python3 - "$out.run$threads" "$round" "$best" <<'PY'
import json, sys
stem, round_, best = sys.argv[1], sys.argv[2], sys.argv[3]
total = lambda r: json.load(open(f"{stem}.{r}.json"))["timings-seconds"]["total"]
print(round_ if not best or total(round_) < total(best) else best)
PY
)"
    done
    cp "$out.run$threads.$best.json" "$out.run$threads.json"
    cp "$out.run$threads.$best.txt" "$out.run$threads.txt"
    rounds_rss="$(for round in $(seq "$runs"); do peak "$out.run$threads.$round.txt"; echo; done |
        sort -n | tail -1)"
    rounds_wall="$(for round in $(seq "$runs"); do wall "$out.run$threads.$round.txt"; done | paste -sd ' ')"
    echo "bare scan, $threads thread(s), read from disk: $(disk "$out.scan$threads.1.txt") and $(disk "$out.scan$threads.2.txt") in its two rounds"
    python3 - "$out.run$threads.json" "$threads" "$(wall "$out.run$threads.txt")" "$rounds_rss" "$(scan_mbs "$out.scan$threads.txt")" "$(disk "$out.run$threads.txt")" "$rounds_wall" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
t = run["timings-seconds"]
scan = float(sys.argv[5])
mbs = run["ingest-mb-per-second"]
print(f"run, {sys.argv[2]} thread(s): wall {sys.argv[3]} (rounds: {sys.argv[7]}), peak RSS {sys.argv[4]}, "
      f"{run['documents']['accepted']} documents, {run['documents']['bytes'] / 1e6:.0f} MB, "
      f"ingest {t['ingest']:.1f} s ({mbs:.0f} MB/s; bare scan {scan:.0f} MB/s, "
      f"{100 * mbs / scan:.0f} % of it), metrics {t['metrics']:.1f} s, report {t['report']:.1f} s, "
      f"read from disk {sys.argv[6]}")
PY
done
python3 - "$out.run1.json" "$out.run2.json" <<'PY'
import json, sys
one, two = (json.load(open(f))["timings-seconds"] for f in sys.argv[1:])
phases = ", ".join(
    f"{k} {one[k] / two[k]:.2f}x" for k in ("ingest", "metrics", "report") if two.get(k)
)
print(f"1 -> 2 threads: {one['total']:.1f} s -> {two['total']:.1f} s, "
      f"{one['total'] / two['total']:.2f}x ({phases})")
PY
# What this machine gives work that is all parallel and reads the same files: the bare scan's
# own speedup from 1 to 2 threads (its faster round of each). It says so only when both scans
# read from the same place: with COLD=1, or a fleet small enough to stay in the page cache.
awk -v one="$(scan_mbs "$out.scan1.txt")" -v two="$(scan_mbs "$out.scan2.txt")" 'BEGIN {
    printf "bare scan, 1 -> 2 threads: %.0f -> %.0f MB/s, %.2fx\n", one, two, two / one }'
awk -v one="$(scan_mbs "$out.ingest1.txt")" -v two="$(scan_mbs "$out.ingest2.txt")" 'BEGIN {
    printf "ingest alone, 1 -> 2 threads: %.0f -> %.0f MB/s, %.2fx\n", one, two, two / one }'
[ "${KEEP:-0}" = 1 ] || rm -rf "$fleet" "$out" "$out".run?.json "$out".run?.*.json "$out".run?.*.txt \
    "$out".scan?.?.txt "$out".ingest?.txt
