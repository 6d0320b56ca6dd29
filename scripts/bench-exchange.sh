#!/usr/bin/env bash
# The document exchange benchmark for docs/performance.md — not run in CI. Two deployments in
# one process (egov-bench-exchange) exchange through the local hub over loopback: latency from
# issue to the recipient's queue, one poller's packets per second, and the backlog of an hour's
# outage drained.
# Usage: scripts/bench-exchange.sh [documents] [MB per PDF] [poller packets] [backlog] [issued/s]
#   BACKENDS="sqlite postgres" (default both; postgres: both deployments on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
MB=${2:-2}
P=${3:-500}
B=${4:-1500}
R=${5:-4}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p egov-loadgen --bin egov-bench-exchange >/dev/null
T=${CARGO_TARGET_DIR:-target}/release
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
export EGOV__LOG__LEVEL=warn
for backend in ${BACKENDS:-sqlite postgres}; do
    args=(--documents "$N" --pdf-mb "$MB" --poller "$P" --backlog "$B" --rate "$R")
    if [ "$backend" = postgres ]; then
        for side in sender receiver; do
            db=egov_bench_exchange_$side
            psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db" >/dev/null 2>&1
            args+=(--$side-url "${PG%/*}/$db")
        done
    fi
    "$T/egov-bench-exchange" "${args[@]}"
done
