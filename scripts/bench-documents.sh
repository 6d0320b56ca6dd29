#!/usr/bin/env bash
# The documents benchmark for docs/performance.md — not run in CI. On SQLite and on PostgreSQL:
# fan-out of one document to the 166 two-tier communes and to the 549 three-tier ones, numbering
# under concurrent clerks, and search at N documents (default 1,000,000).
# Usage: scripts/bench-documents.sh [documents] [seconds] [clerks]
#   BACKENDS="sqlite postgres" (default both); EGOV_BENCH_PG_URL for the PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
SECS=${2:-20}
CLERKS=${3:-16}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p egov-loadgen >/dev/null
T=${CARGO_TARGET_DIR:-target}/release
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $N documents"
for backend in ${BACKENDS:-sqlite postgres}; do
    args=(--documents "$N" --seconds "$SECS" --clerks "$CLERKS")
    if [ "$backend" = postgres ]; then
        db="egov_bench_documents"
        psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db" >/dev/null 2>&1
        args+=(--database-url "${PG%/*}/$db")
    fi
    EGOV__LOG__LEVEL=warn "$T/egov-bench-documents" "${args[@]}"
done
