#!/usr/bin/env bash
# Fuzzes mim6's readers with cargo fuzz (libFuzzer), each target for SECONDS (default 600),
# seeded from the NIST fixtures. Crashes land in fuzz/artifacts/TARGET/; the totals are printed.
#
#   scripts/fuzz.sh                      # every target, 10 minutes each
#   SECONDS_EACH=60 scripts/fuzz.sh xml_convert
#
# cargo fuzz needs nightly compiler flags; RUSTC_BOOTSTRAP lets the pinned stable toolchain
# accept them. Not run in CI (CI only builds the targets).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo/fuzz"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
seconds="${SECONDS_EACH:-600}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json_validate xml_convert yaml_read markup resolve_profile pipeline_parse projection)

# Copies files into a corpus under names of their content's hash (several share a file name).
add() {
    local corpus="$1" file
    while read -r file; do
        cp "$file" "$corpus/$(sha1sum "$file" | cut -c1-16)"
    done
}

seed() {
    local target="$1" corpus="corpus/$1"
    mkdir -p "$corpus"
    local fixtures="$repo/tests/fixtures"
    case "$target" in
        json_validate|resolve_profile|projection)
            find "$fixtures/nist/examples" "$fixtures/pipeline" "$repo/profiles" -name '*.json' -size -200k | add "$corpus" ;;
        xml_convert)
            find "$fixtures/nist/examples" "$repo/profiles" -name '*.xml' -size -200k | add "$corpus" ;;
        yaml_read)
            find "$fixtures/nist/examples" -name '*.yaml' -size -200k | add "$corpus" ;;
        pipeline_parse)
            find "$repo/pipelines" "$fixtures/pipeline" -name '*.toml' | add "$corpus" ;;
        markup)
            printf '**bold** _em_ `code` {{ insert: param, ac-1_prm_1 }}\n\n- a\n- b\n' > "$corpus/seed.md" ;;
    esac
}

for target in "${targets[@]}"; do
    seed "$target"
    log="$(mktemp)"
    status=0
    cargo fuzz run --release --sanitizer none "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
        > "$log" 2>&1 || status=$?
    runs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
    if [ "$status" -eq 0 ]; then
        echo "== $target: ${runs:-?} executions in ${seconds} s, no failure"
    else
        # A crash, a timeout or a leak: the input is in fuzz/artifacts/$target/.
        grep -E "panicked|ERROR|SUMMARY" "$log" | head -5
        echo "== $target: FAILED (status $status), input in fuzz/artifacts/$target/"
    fi
    rm -f "$log"
done
