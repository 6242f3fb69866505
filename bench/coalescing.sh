#!/usr/bin/env bash
# Read coalescing on vs off (APP__DATABASE__COALESCE_READS): GET /api/auth/me with a JWT,
# 16 connections, one server worker. mongo-embedded runs on CPU 1 on its own; the server and
# wrk share CPU 0. Two rounds, alternating. Needs wrk and taskset.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench: wrk not found (apt-get install wrk)" >&2; exit 1; }
cargo build --release -q --bin altrion-server
cargo build --release -q -p altrion-mongo-embedded --bin mongo-embedded
DB_PORT=${DB_PORT:-27123}
PORT=${PORT:-8099}
SECS=${BENCH_SECS:-8}
taskset -c 1 ./target/release/mongo-embedded --port "$DB_PORT" >/dev/null 2>&1 &
db=$!
trap 'kill $db 2>/dev/null || true' EXIT
sleep 1
run() {
  local coalesce=$1 token
  APP_ENV=development MONGODB_URI="mongodb://127.0.0.1:$DB_PORT" MONGODB_DB="bench_$coalesce" \
  APP__DATABASE__COALESCE_READS=$coalesce APP__LOG__LEVEL=warn APP__SERVER__WORKERS=1 \
  APP__RATE_LIMIT__PER_IP_PER_MINUTE=600000 APP__RATE_LIMIT__PER_IP_BURST=100000 \
  APP__MAIL__OUTBOX_DIR="${TMPDIR:-/tmp}/altrion-bench-outbox" PORT=$PORT \
  taskset -c 0 ./target/release/altrion-server >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 1 50); do curl -s "localhost:$PORT/api/ready" >/dev/null && break; sleep 0.2; done
  token=$(curl -s -X POST "localhost:$PORT/api/auth/signup" -H 'content-type: application/json' \
    -d "{\"name\":\"Bench\",\"email\":\"bench$RANDOM$RANDOM@example.com\",\"password\":\"correct horse battery\"}" \
    | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
  taskset -c 0 wrk -t1 -c16 -d"${SECS}s" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$PORT/api/auth/me" | awk -v c="$coalesce" \
    '/Requests\/sec/ {rps=$2} /Latency/ {lat=$2} END {printf "coalesce_reads=%-5s %9.0f req/s  mean latency %s\n", c, rps, lat}'
  kill "$server"; wait "$server" 2>/dev/null || true
}
for _ in 1 2; do run true; run false; done
