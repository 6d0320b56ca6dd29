#!/usr/bin/env bash
# The one-stop benchmark for docs/performance.md — not run in CI. On SQLite and on PostgreSQL:
#   1. seeds the demo, then a year of a province: N dossiers (default 1,000,000) across
#      Thanh Hóa's communes and the provincial centre (egov-seed-onestop);
#   2. serves it and drives it with egov-loadgen: counter receipts per second, then an
#      ordinary officer's mix (my queue, a dossier page, search by code, search by name, the
#      month's statistics) with p50/p95/p99 per request kind.
# Usage: scripts/bench-onestop.sh [dossiers] [seconds] [concurrency]
#   BACKENDS="sqlite postgres" (default both). SKIP_SEED=1 with EGOV_BENCH_DIR reuses the
#   databases of an earlier run (PostgreSQL: the database egov_bench_onestop).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
SECS=${2:-30}
CONC=${3:-16}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p egov-cli -p egov-loadgen >/dev/null
T=${CARGO_TARGET_DIR:-target}/release
WORK=${EGOV_BENCH_DIR:-$(mktemp -d /tmp/egov-bench-onestop.XXXXXX)}
PIDS=""
trap 'kill $PIDS 2>/dev/null || true' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $N dossiers"
rss() { ps -o rss= -p "$1" | awk '{printf "%.1f", $1/1024}'; }
export EGOV__LOG__LEVEL=warn
for backend in ${BACKENDS:-sqlite postgres}; do
    dir="$WORK/$backend"
    mkdir -p "$dir"
    args=(--data-dir "$dir")
    db="egov_bench_onestop"
    [ "$backend" = postgres ] && args+=(--database-url "${PG%/*}/$db")
    if [ -z "${SKIP_SEED:-}" ]; then
        if [ "$backend" = postgres ]; then
            psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db" >/dev/null 2>&1
        fi
        "$T/egov" "${args[@]}" demo --seed-only >/dev/null
        seed_args=(--data-dir "$dir" --dossiers "$N")
        [ "$backend" = postgres ] && seed_args+=(--database-url "${PG%/*}/$db")
        echo "{\"backend\":\"$backend\",\"seed\":$("$T/egov-seed-onestop" "${seed_args[@]}" 2>/dev/null)}"
    fi
    if [ "$backend" = sqlite ]; then
        echo "{\"backend\":\"$backend\",\"database_mib\":$(du -m "$dir/egov.sqlite" | cut -f1)}"
    else
        echo "{\"backend\":\"$backend\",\"database_mib\":$(psql "${PG%/*}/$db" -tAc "SELECT pg_database_size('$db')/1048576")}"
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    EGOV__AUTH__SIGN_IN_PER_MINUTE=100000000 "$T/egov" "${args[@]}" serve --listen "127.0.0.1:$port" >"$dir.log" 2>&1 &
    pid=$!; PIDS="$PIDS $pid"
    # Start-up runs pending migrations, which can take minutes on a million dossiers.
    for _ in $(seq 1 1200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
    for scenario in officer-mix receipts; do
        out=$("$T/egov-loadgen" --base "http://127.0.0.1:$port" --accounts "$dir/demo-accounts.json" \
            --bench-accounts "$dir/bench-accounts.json" --scenario "$scenario" --seconds "$SECS" --concurrency "$CONC")
        echo "{\"backend\":\"$backend\",\"rss_mib\":$(rss $pid),\"result\":$out}"
    done
    kill $pid; PIDS=""
    wait 2>/dev/null || true
done
