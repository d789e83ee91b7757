# Shared set-up of the whole-process benchmarks (sourced, not run): installs hyperfine (Debian)
# and compliance-trestle (PyPI, in a venv under target/bench-venv), builds mim6 in release, and
# makes a scratch folder removed on exit. Sets: repo, venv, work, mim6.
#
# The scratch folder is in memory (/dev/shm) when the machine has one, so that what is timed is
# the tools' work and not the latency of the disk under them (both tools write their output
# there; mim6 also syncs it, which on a disk costs it tens of milliseconds of waiting).
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/target/bench-venv"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    work="$(mktemp -d -p /dev/shm)"
else
    work="$(mktemp -d)"
fi
trap 'rm -rf "$work"' EXIT

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ ! -x "$venv/bin/trestle" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q compliance-trestle
fi
(cd "$repo" && cargo build --release --locked --bin mim6)
mim6="$repo/target/release/mim6"
