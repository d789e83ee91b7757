# Shared set-up of the whole-process benchmarks (sourced, not run): installs hyperfine (Debian)
# and compliance-trestle (PyPI, in a venv under target/bench-venv), builds mim6 in release, and
# makes a scratch folder removed on exit. Sets: repo, venv, work, mim6.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/target/bench-venv"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ ! -x "$venv/bin/trestle" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q compliance-trestle
fi
(cd "$repo" && cargo build --release --locked --bin mim6)
mim6="$repo/target/release/mim6"
