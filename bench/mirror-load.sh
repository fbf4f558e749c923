#!/usr/bin/env bash
# Load benchmark for skillscan-mirror on loopback (bounded in time and requests).
# Usage: bench/mirror-load.sh [SECONDS] [CONCURRENCY]
# Seeds an approved ~20 KB skill into a temporary data dir (import; approved by the scanner
# and policy, or by hand if held), starts the release binary, and measures the download route and the
# two metadata routes the CLI hits on install (detail) and search.
set -euo pipefail
SECS=${1:-10}
CONC=${2:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
cargo build --release -p skillscan-mirror --bin skillscan-mirror --example mirror-load >/dev/null
BIN=target/release/skillscan-mirror
LOAD=target/release/examples/mirror-load
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
"$LOAD" seed "$TMP/skill"
"$BIN" --data "$TMP/data" import "$TMP/skill" --slug load-skill --version 1.0.0 --owner bench >/dev/null
# The scanner normally approves this clean skill; approve by hand if policy held it.
if ! "$BIN" --data "$TMP/data" list --state approved | grep -q '^load-skill@1.0.0'; then
  "$BIN" --data "$TMP/data" approve load-skill@1.0.0 --reason "benchmark fixture" --by bench >/dev/null
fi
# The load generator is one address standing for many clients: no per-address connection cap
# (at the default 64 its reconnects are refused now and then and counted as errors).
printf '[limits]\nmax_connections_per_ip = 0\n' >"$TMP/bench.toml"
SKILLSCAN_MIRROR_LOG=warn "$BIN" --data "$TMP/data" --config "$TMP/bench.toml" serve --listen 127.0.0.1:0 >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER_PID=$!
for _ in $(seq 50); do grep -q listening "$TMP/serve.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/.*listening on //p' "$TMP/serve.out")
ZIP_BYTES=$(curl -s "$URL/api/v1/download?slug=load-skill&version=1.0.0" | wc -c)
echo "mirror at $URL, zip size $ZIP_BYTES bytes, $(nproc) cores, ${SECS}s per route, concurrency $CONC"
"$LOAD" run "$URL" "/api/v1/download?slug=load-skill&version=1.0.0" "$CONC" "$SECS"
"$LOAD" run "$URL" "/api/v1/skills/load-skill" "$CONC" "$SECS"
"$LOAD" run "$URL" "/api/v1/search?q=load&limit=25" "$CONC" "$SECS"
