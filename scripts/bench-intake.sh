#!/usr/bin/env bash
# The national portal intake benchmark for docs/performance.md — not run in CI. On SQLite and
# on PostgreSQL (egov-bench-intake, against the stand-in over HTTP): online dossiers with two
# files each taken in, and the peak memory while taking in one with a very large file.
# Usage: scripts/bench-intake.sh [dossiers] [MB per file] [MB of the big file]
#   BACKENDS="sqlite postgres" (default both).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
MB=${2:-1}
BIG=${3:-200}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p egov-loadgen --bin egov-bench-intake >/dev/null
T=${CARGO_TARGET_DIR:-target}/release
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
export EGOV__LOG__LEVEL=warn
for backend in ${BACKENDS:-sqlite postgres}; do
    args=(--dossiers "$N" --file-mb "$MB" --big-mb "$BIG")
    if [ "$backend" = postgres ]; then
        db=egov_bench_intake
        psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db" >/dev/null 2>&1
        args+=(--database-url "${PG%/*}/$db")
    fi
    "$T/egov-bench-intake" "${args[@]}"
done
