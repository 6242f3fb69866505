#!/usr/bin/env bash
# HTTP load benchmark: release builds of altrion-server, mock-oauth and mongo-embedded, load from
# wrk (Debian: apt-get install wrk), everything on loopback, about 40 s in all.
# Results: bench/results/http.{json,md,svg}. Exits 1 when a target is missed
# (BENCH_NO_FAIL=1 to only report). Knobs: BENCH_SECS (5), BENCH_CONNECTIONS (16).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
command -v wrk >/dev/null || { echo "bench: wrk not found (apt-get install wrk)" >&2; exit 1; }
cargo build --release -q --bin altrion-server --bin mock-oauth
cargo build --release -q --manifest-path crates/mongo-embedded/Cargo.toml --bin mongo-embedded
exec timeout 300 python3 bench/load.py "$@"
