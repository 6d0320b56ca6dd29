#!/usr/bin/env bash
# The scorecard benchmark for docs/performance.md — not run in CI. On SQLite and on PostgreSQL:
# seeds the demo and a year of a province (egov-seed-onestop, N dossiers, default 1,000,000,
# with the flags the indicators read), then runs egov-bench-scorecard: the province's year,
# the busiest commune's month, the dashboard with 8 clients, and 50,000 dossiers to xlsx.
# Usage: scripts/bench-scorecard.sh [dossiers]. BACKENDS="sqlite postgres" (default both);
# SKIP_SEED=1 with EGOV_BENCH_DIR reuses an earlier run's databases.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p egov-cli -p egov-loadgen >/dev/null
T=${CARGO_TARGET_DIR:-target}/release
WORK=${EGOV_BENCH_DIR:-$(mktemp -d /tmp/egov-bench-scorecard.XXXXXX)}
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $N dossiers"
export EGOV__LOG__LEVEL=warn
for backend in ${BACKENDS:-sqlite postgres}; do
    dir="$WORK/$backend"
    mkdir -p "$dir"
    args=(--data-dir "$dir")
    db="egov_bench_scorecard"
    [ "$backend" = postgres ] && args+=(--database-url "${PG%/*}/$db")
    if [ -z "${SKIP_SEED:-}" ]; then
        if [ "$backend" = postgres ]; then
            psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db" >/dev/null 2>&1
        fi
        "$T/egov" "${args[@]}" demo --seed-only >/dev/null
        echo "{\"backend\":\"$backend\",\"seed\":$("$T/egov-seed-onestop" "${args[@]}" --dossiers "$N" 2>/dev/null)}"
        if [ "$backend" = postgres ]; then psql "${PG%/*}/$db" -qc "VACUUM ANALYZE" >/dev/null; fi
    fi
    echo "{\"backend\":\"$backend\",\"scorecard\":$("$T/egov-bench-scorecard" "${args[@]}")}"
done
