#!/usr/bin/env bash
# Several nodes (issue 24) for docs/performance.md — not run in CI. On PostgreSQL and one
# SeaweedFS bucket, behind haproxy:
#   1. counter receipts and the officer's mix with one node, then with two (the same
#      database, seeded with N dossiers by egov-seed-onestop), and each node's memory (RSS)
#      after each run;
#   2. upload and download throughput of 10 MB files on the local store and on the bucket
#      (egov-bench-blobs).
# Usage: scripts/bench-nodes.sh [seconds] [concurrency]   N=20000 dossiers by default.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONC=${2:-16}
N=${N:-20000}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
cargo build --release --locked -p egov-cli -p egov-loadgen >/dev/null
T=$(realpath "${CARGO_TARGET_DIR:-target}/release")
WORK=$(mktemp -d /tmp/egov-bench-nodes.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $N dossiers"
rss() { ps -o rss= -p "$1" | awk '{printf "%.0f", $1/1024}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
S3=$(EGOV_VENV=${EGOV_VENV:-$HOME/.cache/egov-venv} scripts/s3-server.sh "$WORK/s3")
rest=${S3#http://}; creds=${rest%%@*}; hostpath=${rest#*@}
db=egov_bench_nodes
psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db" >/dev/null
export EGOV__LOG__LEVEL=warn EGOV__DATABASE__URL="${PG%/*}/$db" EGOV__AUTH__SIGN_IN_PER_MINUTE=100000000 \
    EGOV__BLOBS__STORE=s3 EGOV__BLOBS__S3__ENDPOINT="http://${hostpath%%/*}" \
    EGOV__BLOBS__S3__BUCKET="${hostpath#*/}" EGOV__BLOBS__S3__PREFIX="bench-nodes-$$" \
    EGOV__BLOBS__S3__ACCESS_KEY_ID="${creds%%:*}" EGOV__BLOBS__S3__SECRET_ACCESS_KEY="${creds#*:}"
"$T/egov" --data-dir "$WORK/a" demo --seed-only >/dev/null
echo "{\"seed\":$("$T/egov-seed-onestop" --data-dir "$WORK/a" --database-url "$EGOV__DATABASE__URL" --dossiers "$N" 2>/dev/null)}"
cp -r "$WORK/a" "$WORK/b"
declare -A PORT PID
for n in a b; do
    PORT[$n]=$(free_port)
    "$T/egov" --data-dir "$WORK/$n" serve --listen "127.0.0.1:${PORT[$n]}" >"$WORK/node-$n.log" 2>&1 &
    PID[$n]=$!; PIDS+=(${PID[$n]})
done
for n in a b; do
    for _ in $(seq 1 600); do curl -sf "127.0.0.1:${PORT[$n]}/readyz" >/dev/null && break; sleep 0.5; done
done
for nodes in "a" "a b"; do
    LB=$(free_port)
    {
        printf 'global\n    maxconn 1000\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n'
        printf 'frontend egov\n    bind 127.0.0.1:%s\n    default_backend nodes\nbackend nodes\n    balance roundrobin\n    option httpchk GET /readyz\n' "$LB"
        for n in $nodes; do printf '    server %s 127.0.0.1:%s check\n' "$n" "${PORT[$n]}"; done
    } >"$WORK/haproxy.cfg"
    haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
    HA=$!; PIDS+=($HA)
    sleep 2
    for scenario in receipts officer-mix; do
        out=$("$T/egov-loadgen" --base "http://127.0.0.1:$LB" --accounts "$WORK/a/demo-accounts.json" \
            --bench-accounts "$WORK/a/bench-accounts.json" --scenario "$scenario" --seconds "$SECS" --concurrency "$CONC")
        mem=$(for n in a b; do printf '"%s":%s,' "$n" "$(rss "${PID[$n]}")"; done)
        echo "{\"nodes\":\"$nodes\",\"rss_mib\":{${mem%,}},\"result\":$out}"
    done
    kill "$HA"; wait "$HA" 2>/dev/null || true
done
"$T/egov-bench-blobs" --s3 "$S3"
