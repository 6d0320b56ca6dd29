#!/usr/bin/env bash
# The long fuzzing run of the edXML reader (not in CI; CI runs a bounded 400 cases): structured
# mutations of the fixture and foreign packets, batch after batch until the time is up.
# Usage: scripts/fuzz-edxml.sh [seconds, default 3600]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-3600}
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -sr), ${SECONDS_TO_RUN} s"
EGOV_FUZZ_SECONDS=$SECONDS_TO_RUN EGOV_FUZZ_CASES=${EGOV_FUZZ_CASES:-2000} \
    cargo test --release --locked -p egov-edxml --test fuzz -- --nocapture 2>&1 | grep -E "edXML fuzz|test result|panicked|fuzz batch"
