#!/usr/bin/env bash
# Soak test (`make soak`): 60 s of mixed traffic (sign-ups, logins, /me, OAuth sessions through
# the mock provider, logouts) against release builds on mongo-embedded, all on loopback; then
# checks zero 5xx, nothing lost, and `altrion db check --json` against what the traffic created.
# Result: bench/results/soak.json; exit 1 on any failure. SOAK_SECS / SOAK_WORKERS to reshape.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q --bin altrion-server --bin mock-oauth --bin altrion
cargo build --release -q --manifest-path crates/mongo-embedded/Cargo.toml --bin mongo-embedded
exec timeout 400 python3 bench/soak.py "$@"
