#!/usr/bin/env bash
# The failure scenario of docs/operations.md ("Failure scenario") — not run in CI.
#
# Counter receipts (each with a scan) and numbered documents go through haproxy while
#   postgres: two nodes on one PostgreSQL and one SeaweedFS bucket; node A is killed with
#             SIGKILL and started again, PostgreSQL is restarted, the bucket is frozen (SIGSTOP)
#             for 30 s;
#   sqlite:   one node on SQLite and its local files, killed with SIGKILL twice and started
#             again each time;
# then egov-failover checks that every acknowledged receipt and document exists once with its
# files, that no number is duplicated or skipped and that the national portal (a stand-in)
# received every dossier, and `egov audit verify` / `egov blobs verify` check the rest.
#
# Usage: scripts/failure-scenario.sh postgres|sqlite [seconds] [clients]
#   PROFILE=debug to use debug binaries; EGOV_BENCH_PG_URL for another PostgreSQL (restarted
#   with `pg_ctlcluster $PG_CLUSTER restart`, default "15 main": the machine's own).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-postgres}
SECS=${2:-150}
CLIENTS=${3:-6}
PROFILE=${PROFILE:-release}
PG=${EGOV_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_CLUSTER=${PG_CLUSTER:-15 main}
if [ "$PROFILE" = release ]; then
    cargo build --release --locked -p egov-cli -p egov-loadgen >/dev/null
else
    cargo build --locked -p egov-cli -p egov-loadgen >/dev/null
fi
T=${CARGO_TARGET_DIR:-target}/$PROFILE
EGOV=$(realpath "$T/egov")
FAILOVER=$(realpath "$T/egov-failover")
WORK=$(mktemp -d /tmp/egov-failover.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    pkill -CONT -f "weed mini" 2>/dev/null || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log() { echo "[$(date -u +%T)] $*"; }
rss() { ps -o rss= -p "$1" 2>/dev/null | awk '{printf "%.0f", $1/1024}'; }

export EGOV__LOG__LEVEL=warn EGOV__SERVER__SECURE_COOKIES=false
PORTAL=$(free_port)
"$EGOV" national-portal fake --listen "127.0.0.1:$PORTAL" >"$WORK/portal.log" 2>&1 &
PIDS+=($!)
export EGOV__NATIONAL_PORTAL__ENABLED=true EGOV__NATIONAL_PORTAL__URL="http://127.0.0.1:$PORTAL" \
    EGOV__NATIONAL_PORTAL__USERNAME=demo EGOV__NATIONAL_PORTAL__PASSWORD=demo
NODES=(a)
if [ "$MODE" = postgres ]; then
    DB="egov_failover_$$"
    psql "$PG" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB" >/dev/null
    export EGOV__DATABASE__URL="${PG%/*}/$DB"
    S3=$(EGOV_VENV=${EGOV_VENV:-$HOME/.cache/egov-venv} scripts/s3-server.sh "$WORK/s3")
    rest=${S3#http://}; creds=${rest%%@*}; hostpath=${rest#*@}
    export EGOV__BLOBS__STORE=s3 EGOV__BLOBS__S3__ENDPOINT="http://${hostpath%%/*}" \
        EGOV__BLOBS__S3__BUCKET="${hostpath#*/}" EGOV__BLOBS__S3__PREFIX="failover-$$" \
        EGOV__BLOBS__S3__ACCESS_KEY_ID="${creds%%:*}" EGOV__BLOBS__S3__SECRET_ACCESS_KEY="${creds#*:}"
    NODES=(a b)
    DATABASE_URL=$EGOV__DATABASE__URL
else
    DATABASE_URL="$WORK/a/egov.sqlite"
fi
log "seeding ($MODE)"
"$EGOV" --data-dir "$WORK/a" demo --seed-only >/dev/null
# Every node holds the same keys, trust lists and settings (docs/operations.md).
[ "$MODE" = postgres ] && cp -r "$WORK/a" "$WORK/b"
declare -A PORT PID
start_node() {
    "$EGOV" --data-dir "$WORK/$1" serve --listen "127.0.0.1:${PORT[$1]}" >>"$WORK/node-$1.log" 2>&1 &
    PID[$1]=$!
    PIDS+=(${PID[$1]})
}
LB=$(free_port)
{
    printf 'global\n    maxconn 500\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n    retries 2\n    option redispatch\n'
    printf 'frontend egov\n    bind 127.0.0.1:%s\n    default_backend nodes\n' "$LB"
    printf 'backend nodes\n    balance roundrobin\n    option httpchk GET /readyz\n    http-check expect status 200\n    retry-on conn-failure empty-response\n    default-server inter 1s fall 2 rise 2\n'
} >"$WORK/haproxy.cfg"
for n in "${NODES[@]}"; do
    PORT[$n]=$(free_port)
    printf '    server %s 127.0.0.1:%s check\n' "$n" "${PORT[$n]}" >>"$WORK/haproxy.cfg"
    start_node "$n"
done
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
for n in "${NODES[@]}"; do
    for _ in $(seq 1 100); do curl -sf "127.0.0.1:${PORT[$n]}/readyz" >/dev/null && break; sleep 0.3; done
done
sleep 3
log "driving $CLIENTS clients for $SECS s through haproxy on :$LB"
"$FAILOVER" drive --base "http://127.0.0.1:$LB" --accounts "$WORK/a/demo-accounts.json" \
    --clients "$CLIENTS" --seconds "$SECS" --out "$WORK/acks.jsonl" >"$WORK/drive.json" &
DRIVER=$!
PIDS+=($DRIVER)
at() { local until=$1; while [ "$(($(date +%s) - T0))" -lt "$until" ]; do sleep 0.5; done; }
T0=$(date +%s)
PEAK=0
peak() { for n in "${NODES[@]}"; do r=$(rss "${PID[$n]}"); [ -n "$r" ] && [ "$r" -gt "$PEAK" ] && PEAK=$r; done; true; }
at 20; peak; log "kill -9 node a (pid ${PID[a]})"; kill -9 "${PID[a]}"
at 35; log "node a started again"; start_node a
if [ "$MODE" = postgres ]; then
    at 60; peak; log "PostgreSQL restarts"; pg_ctlcluster $PG_CLUSTER restart
    at 90; peak; log "the bucket freezes (SIGSTOP) for 30 s"; pkill -STOP -f "weed mini"
    at 120; log "the bucket answers again"; pkill -CONT -f "weed mini"
else
    at 70; peak; log "kill -9 node a again"; kill -9 "${PID[a]}"
    at 80; log "node a started again"; start_node a
fi
while kill -0 "$DRIVER" 2>/dev/null; do peak; sleep 2; done
wait "$DRIVER" || true
log "driver: $(cat "$WORK/drive.json")"
log "node memory: peak RSS $PEAK MiB; now $(for n in "${NODES[@]}"; do printf '%s=%s MiB ' "$n" "$(rss "${PID[$n]}")"; done)"
STATUS=0
log "checking"
"$FAILOVER" check --base "http://127.0.0.1:$LB" --accounts "$WORK/a/demo-accounts.json" \
    --acks "$WORK/acks.jsonl" --database-url "$DATABASE_URL" \
    --portal "http://127.0.0.1:$PORTAL" || STATUS=1
"$EGOV" --data-dir "$WORK/a" audit verify || STATUS=1
"$EGOV" --data-dir "$WORK/a" blobs verify || STATUS=1
log "exit $STATUS (work files in $WORK)"
exit $STATUS
