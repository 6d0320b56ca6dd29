#!/usr/bin/env bash
# The edXML packet benchmark for docs/performance.md (not in CI): packets written and read per
# second with a 5 MB attachment and with none; the throughput and peak memory of reading a
# packet with a large attachment from a file.
# Usage: scripts/bench-edxml.sh [seconds per measure, default 3] [MB of the large attachment, default 200]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p egov-edxml --example bench_edxml >/dev/null
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
"${CARGO_TARGET_DIR:-target}/release/examples/bench_edxml" "${1:-3}" "${2:-200}"
