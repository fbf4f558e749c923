#!/usr/bin/env bash
# Replicas benchmark (issue 14): downloads/s and p99 on loopback for
#   1. the embedded default (SQLite + files), hot cache and cold reads;
#   2. one replica on PostgreSQL + S3 (Garage), hot cache and cold reads (every download read
#      from S3 and re-hashed before a byte is served);
#   3. two replicas over the same PostgreSQL and bucket, clients spread over both.
# Usage: bench/mirror-replicas.sh [SECONDS] [CONCURRENCY]
# Uses SKILLSCAN_PG_URL / SKILLSCAN_S3_URL (+ AWS_*) when set, else starts throwaway servers with
# .ci/postgres.sh and .ci/garage.sh (PostgreSQL from Debian, garage from `cargo install`).
set -euo pipefail
SECS=${1:-10}
CONC=${2:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
cargo build --release -p skillscan-mirror --bin skillscan-mirror --example mirror-load >/dev/null
BIN=$ROOT/target/release/skillscan-mirror
LOAD=$ROOT/target/release/examples/mirror-load
TMP=$(mktemp -d)
PIDS=()
STARTED=()
declare -A DIRS
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for s in "${STARTED[@]}"; do bash ".ci/$s.sh" stop "${DIRS[$s]}" >/dev/null 2>&1 || true; rm -rf "${DIRS[$s]}"; done
  rm -rf "$TMP"
}
trap cleanup EXIT

if [ -z "${SKILLSCAN_PG_URL:-}" ]; then
  # Directly under /tmp: the server runs as the postgres user, which must reach its directory.
  DIRS[postgres]=$(mktemp -d /tmp/skillscan-pg.XXXXXX)
  STARTED+=(postgres)
  bash .ci/postgres.sh start "${DIRS[postgres]}" >/dev/null
  # shellcheck disable=SC1091
  source "${DIRS[postgres]}/env"
fi
if [ -z "${SKILLSCAN_S3_URL:-}" ]; then
  DIRS[garage]=$(mktemp -d)
  STARTED+=(garage)
  bash .ci/garage.sh start "${DIRS[garage]}" >/dev/null
  # shellcheck disable=SC1091
  source "${DIRS[garage]}/env"
fi
DB="$SKILLSCAN_PG_URL"
# A database of its own, so a rerun starts empty.
NAME="bench_$(date +%s)_$$"
psql "$DB" -qc "CREATE DATABASE $NAME" >/dev/null
# The URL holds a password: the mirror reads it from the environment, not from its command line.
export SKILLSCAN_MIRROR_DATABASE="${DB%/*}/$NAME"
BLOBS="${SKILLSCAN_S3_URL%/}/bench-$NAME"

"$LOAD" seed "$TMP/skill"
# The load generator is one address standing for many clients: no per-address connection cap
# (at the default 64 its reconnects are refused now and then and counted as errors).
printf '[limits]\nmax_connections_per_ip = 0\nhot_cache_bytes = 0\n' >"$TMP/cold.toml"
printf '[limits]\nmax_connections_per_ip = 0\n' >"$TMP/hot.toml"
PATH_DL="/api/v1/download?slug=load-skill&version=1.0.0"

seed() { # DATA [storage flags...]
  local data=$1; shift
  "$BIN" --data "$data" "$@" key init >/dev/null 2>&1 || true
  "$BIN" --data "$data" "$@" import "$TMP/skill" --slug load-skill --version 1.0.0 --owner bench >/dev/null
  if ! "$BIN" --data "$data" "$@" list --state approved | grep -q '^load-skill@1.0.0'; then
    "$BIN" --data "$data" "$@" approve load-skill@1.0.0 --reason "benchmark fixture" --by bench >/dev/null
  fi
}

serve() { # NAME CONFIG DATA [storage flags...]; sets URL (not in a subshell: PIDS must keep the pid)
  local name=$1 config=$2 data=$3; shift 3
  SKILLSCAN_MIRROR_LOG=warn "$BIN" --data "$data" --config "$config" "$@" serve --listen 127.0.0.1:0 \
    >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q listening "$TMP/$name.out" 2>/dev/null && break; sleep 0.1; done
  URL=$(sed -n 's/.*listening on //p' "$TMP/$name.out")
  [ -n "$URL" ] || { echo "serve $name did not start: $(cat "$TMP/$name.err")" >&2; exit 1; }
}

stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}

run() { # LABEL URLS
  printf '%-40s ' "$1"
  "$LOAD" run "$2" "$PATH_DL" "$CONC" "$SECS" | sed 's/^[^:]*: //'
}

echo "$(nproc) cores, ${SECS}s per run, concurrency $CONC, download of a ~20 KB approved archive"
(unset SKILLSCAN_MIRROR_DATABASE; seed "$TMP/embedded")
for mode in hot cold; do
  SKILLSCAN_MIRROR_DATABASE="sqlite:$TMP/embedded/mirror.db" serve "embedded-$mode" "$TMP/$mode.toml" "$TMP/embedded"
  run "embedded (sqlite+files), $mode" "$URL"
  stop_all
done

STORAGE=(--blobs "$BLOBS")
seed "$TMP/replica-a" "${STORAGE[@]}"
mkdir -p "$TMP/replica-b/keys" && chmod 700 "$TMP/replica-b" "$TMP/replica-b/keys"
cp "$TMP/replica-a/keys/mirror.key" "$TMP/replica-a/keys/mirror.pub" "$TMP/replica-b/keys/"
for mode in hot cold; do
  serve "a-$mode" "$TMP/$mode.toml" "$TMP/replica-a" "${STORAGE[@]}"
  A=$URL
  run "1 replica (postgres+s3), $mode" "$A"
  serve "b-$mode" "$TMP/$mode.toml" "$TMP/replica-b" "${STORAGE[@]}"
  run "2 replicas (postgres+s3), $mode" "$A,$URL"
  stop_all
done
