#!/usr/bin/env bash
# Benchmarks for docs/performance.md — not run in CI. Builds release binaries, then on SQLite
# and on PostgreSQL:
#   1. imports all 10,810 three-tier units, the 3,355 two-tier units and the succession table
#      into an empty database (wall time of each `egov import`);
#   2. serves the demo and measures the server's memory (RSS) idle, then drives it with
#      egov-loadgen (sign-in, agency pages, agency search) and measures RSS under load.
# Usage: scripts/bench.sh [seconds-per-scenario] [concurrency]
#   SCENARIOS="sign-in agency-page agency-search" (default: all), SKIP_IMPORT=1 to skip step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONC=${2:-16}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p egov-cli -p egov-loadgen >/dev/null
T=${CARGO_TARGET_DIR:-target}/release
EGOV=$T/egov
LOAD=$T/egov-loadgen
WORK=$(mktemp -d /tmp/egov-bench.XXXXXX)
PIDS=""
trap 'kill $PIDS 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
rss() { ps -o rss= -p "$1" | awk '{printf "%.1f", $1/1024}'; }
now() { date +%s.%N; }

for backend in sqlite postgres; do
    dir="$WORK/$backend"
    mkdir -p "$dir"
    args=(--data-dir "$dir")
    if [ "$backend" = postgres ]; then
        db="egov_bench_$$"
        psql "$PG" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null 2>&1
        args+=(--database-url "${PG%/*}/$db")
    fi
    export EGOV__LOG__LEVEL=warn
    if [ -z "${SKIP_IMPORT:-}" ]; then
    t0=$(now); "$EGOV" "${args[@]}" import units data/vn-units-three-tier.csv --structure three_tier >/dev/null; t1=$(now)
    "$EGOV" "${args[@]}" import units data/vn-units-two-tier.csv --structure two_tier >/dev/null; t2=$(now)
    "$EGOV" "${args[@]}" import succession data/vn-units-2025-succession.csv >/dev/null; t3=$(now)
    printf '{"backend":"%s","import_three_tier_s":%.2f,"import_two_tier_s":%.2f,"import_succession_s":%.2f}\n' \
        "$backend" "$(awk "BEGIN{print $t1-$t0}")" "$(awk "BEGIN{print $t2-$t1}")" "$(awk "BEGIN{print $t3-$t2}")"
    fi

    # A fresh demo database for the HTTP scenarios (the whole-country import above is separate).
    dir2="$WORK/$backend-demo"
    args2=(--data-dir "$dir2")
    if [ "$backend" = postgres ]; then
        db2="egov_bench_demo_$$"
        psql "$PG" -qc "DROP DATABASE IF EXISTS $db2" -qc "CREATE DATABASE $db2" >/dev/null 2>&1
        args2+=(--database-url "${PG%/*}/$db2")
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    EGOV__AUTH__SIGN_IN_PER_MINUTE=100000000 EGOV__AUTH__LOCKOUT_THRESHOLD=1000000000 \
        "$EGOV" "${args2[@]}" demo --listen "127.0.0.1:$port" >"$dir2.log" 2>&1 &
    pid=$!; PIDS="$PIDS $pid"
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
    sleep 3
    printf '{"backend":"%s","rss_idle_mib":%s}\n' "$backend" "$(rss $pid)"
    for scenario in ${SCENARIOS:-sign-in agency-page agency-search}; do
        "$LOAD" --base "http://127.0.0.1:$port" --accounts "$dir2/demo-accounts.json" \
            --scenario "$scenario" --concurrency "$CONC" --seconds "$SECS" | sed "s/^{/{\"backend\":\"$backend\",/"
        printf '{"backend":"%s","after":"%s","rss_mib":%s}\n' "$backend" "$scenario" "$(rss $pid)"
    done
    kill $pid; wait $pid 2>/dev/null || true
    if [ "$backend" = postgres ]; then
        psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "DROP DATABASE IF EXISTS $db2 WITH (FORCE)" >/dev/null 2>&1
    fi
done
