#!/usr/bin/env bash
# How a run's peak memory grows with the fleet: `mim6 run` on generated fleets of small cities
# (1 system each, besides the shared platform, over 2 periods) of several sizes, with the peak
# RSS of each run and the growth per city between the smallest and the largest.
#
#   scripts/bench-memory.sh                    # 2,000 and 8,000 cities (about 13 GB of documents)
#   SIZES="500 4000" scripts/bench-memory.sh
#
# Both default sizes are past the point (about 1,600 such cities) where the packed rows held
# reach `memory.spill-rows`: below it, the growth measured includes that bounded holding.
# Fleets and outputs are written under target/bench-memory-N and removed after each run.
# Not run in CI.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes="${SIZES:-2000 8000}"
(cd "$repo" && cargo build --release --locked --bin mim6)
mim6="$repo/target/release/mim6"

results=()
for cities in $sizes; do
    fleet="$repo/target/bench-memory-$cities"
    rm -rf "$fleet" "$fleet.out"
    "$mim6" synth --cities "$cities" --systems-per-city 1 --periods 2 --seed 3 -o "$fleet" \
        > /dev/null
    cat > "$fleet.toml" <<TOML
[baseline]
profile = "$repo/profiles/mim6-city-baseline-resolved.json"
[inputs]
folders = ["$fleet"]
[output]
folder = "$fleet.out"
TOML
    /usr/bin/time -f "%e %M" -o "$fleet.time" "$mim6" run "$fleet.toml" 2> "$fleet.log" ||
        { cat "$fleet.log"; exit 1; }
    read -r wall peak_kb < "$fleet.time"
    echo "$cities cities: wall ${wall} s, peak RSS $((peak_kb / 1024)) MB"
    results+=("$cities $peak_kb")
    rm -rf "$fleet" "$fleet.out" "$fleet.toml" "$fleet.time" "$fleet.log"
done
first=(${results[0]})
last=(${results[${#results[@]} - 1]})
if [ "${first[0]}" != "${last[0]}" ]; then
    echo "growth: $(( (last[1] - first[1]) / (last[0] - first[0]) )) KB of peak RSS a city" \
        "(${first[0]} -> ${last[0]} cities)"
fi
