#!/usr/bin/env bash
# The national portal synchronisation benchmark for docs/performance.md — not run in CI. On
# SQLite and on PostgreSQL (egov-bench-national, against the stand-in over HTTP): a backlog
# drained, the lag at a steady receipt rate with the worker's 2-second rounds, an outage and its
# drain (when asked), a reconciliation.
# Usage: scripts/bench-national.sh [backlog dossiers] [receipts a second] [seconds] [outage seconds]
#   BACKENDS="sqlite postgres" (default both).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
RATE=${2:-50}
SECS=${3:-60}
OUTAGE=${4:-0}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p egov-loadgen --bin egov-bench-national >/dev/null
T=${CARGO_TARGET_DIR:-target}/release
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
export EGOV__LOG__LEVEL=warn
for backend in ${BACKENDS:-sqlite postgres}; do
    args=(--dossiers "$N" --rate "$RATE" --seconds "$SECS" --outage "$OUTAGE")
    if [ "$backend" = postgres ]; then
        db=egov_bench_national
        psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db" >/dev/null 2>&1
        args+=(--database-url "${PG%/*}/$db")
    fi
    "$T/egov-bench-national" "${args[@]}"
done
