#!/usr/bin/env bash
# A throwaway single-node Garage (S3-compatible object storage) for the S3 blob store tests.
#
#   .ci/garage.sh start DIR   config, data, log and pid under DIR; writes DIR/env
#   .ci/garage.sh stop DIR    stops the server started in DIR (leaves DIR)
#
# Then `source DIR/env` sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# AWS_ENDPOINT_URL, AWS_ALLOW_HTTP and SKILLSCAN_S3_URL (the bucket `skillscan-test`).
# Everything listens on 127.0.0.1 only, on ports picked free at start.
#
# Garage is AGPL: a tool we run next to the tests, never linked into anything we ship.
# Needs `garage` 2.5.x on PATH (or GARAGE_BIN), e.g.
#   cargo install --locked garage@2.5.0 --no-default-features --features bundled-libs,lmdb
set -euo pipefail

GARAGE="${GARAGE_BIN:-garage}"

usage() { echo "usage: $0 start DIR | stop DIR" >&2; exit 2; }

# A TCP port on 127.0.0.1 that nobody listens on right now: the kernel's pick when python3
# is there, else a random high port that refuses a connection.
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
}

random_hex() {
  if command -v openssl >/dev/null; then openssl rand -hex "$1"; else head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; fi
}

start() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/garage.pid" ] && kill -0 "$(cat "$dir/garage.pid")" 2>/dev/null; then
    echo "garage already running in $dir (pid $(cat "$dir/garage.pid"))" >&2
    exit 1
  fi
  command -v "$GARAGE" >/dev/null || { echo "garage not found (GARAGE_BIN or PATH)" >&2; exit 1; }
  local rpc_port s3_port admin_port
  rpc_port=$(free_port); s3_port=$(free_port); admin_port=$(free_port)
  mkdir -p "$dir/meta" "$dir/data"
  # The config holds the RPC secret and admin token: readable by us only.
  (umask 077; cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "lmdb"
replication_factor = 1

rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$(random_hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
admin_token = "$(random_hex 32)"
EOF
  )
  local cfg=(-c "$dir/garage.toml")
  # setsid: the server outlives this script and the shell that ran it (CI's trap stops it).
  setsid "$GARAGE" "${cfg[@]}" server >"$dir/garage.log" 2>&1 < /dev/null &
  echo $! >"$dir/garage.pid"

  # Up when the CLI reaches it over RPC and the S3 port accepts connections.
  local i
  for i in $(seq 1 100); do
    if ! kill -0 "$(cat "$dir/garage.pid")" 2>/dev/null; then
      echo "garage exited; its log:" >&2; tail -n 30 "$dir/garage.log" >&2; exit 1
    fi
    if "$GARAGE" "${cfg[@]}" status >/dev/null 2>&1 \
      && (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null; then
      break
    fi
    [ "$i" = 100 ] && { echo "garage did not come up in 20 s; its log:" >&2; tail -n 30 "$dir/garage.log" >&2; exit 1; }
    sleep 0.2
  done

  # One node, one zone, all of its capacity.
  local node
  node=$("$GARAGE" "${cfg[@]}" node id -q 2>/dev/null | cut -d@ -f1)
  [ -n "$node" ] || { echo "cannot read the garage node id" >&2; exit 1; }
  "$GARAGE" "${cfg[@]}" layout assign -z dc1 -c 1G "$node" >/dev/null
  "$GARAGE" "${cfg[@]}" layout apply --version 1 >/dev/null
  "$GARAGE" "${cfg[@]}" bucket create skillscan-test >/dev/null
  "$GARAGE" "${cfg[@]}" key create skillscan-test-key >/dev/null
  "$GARAGE" "${cfg[@]}" bucket allow --read --write --owner skillscan-test --key skillscan-test-key >/dev/null
  local key_id secret
  key_id=$("$GARAGE" "${cfg[@]}" key info --key-id skillscan-test-key | tr -d '[:space:]')
  secret=$("$GARAGE" "${cfg[@]}" key info --secret-key skillscan-test-key | tr -d '[:space:]')
  [ -n "$key_id" ] && [ -n "$secret" ] || { echo "cannot read the key from 'garage key info'" >&2; exit 1; }

  (umask 077; cat >"$dir/env" <<EOF
export AWS_ACCESS_KEY_ID=$key_id
export AWS_SECRET_ACCESS_KEY=$secret
export AWS_REGION=garage
export AWS_ENDPOINT_URL=http://127.0.0.1:$s3_port
export AWS_ALLOW_HTTP=true
export SKILLSCAN_S3_URL=s3://skillscan-test
EOF
  )
  echo "garage up in $dir (S3 on 127.0.0.1:$s3_port, pid $(cat "$dir/garage.pid")); source $dir/env"
}

stop() {
  local dir=$1 pid i
  [ -f "$dir/garage.pid" ] || { echo "no garage.pid in $dir" >&2; return 0; }
  pid=$(cat "$dir/garage.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/garage.pid"
}

[ $# = 2 ] || usage
case "$1" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
