#!/usr/bin/env bash
# A throwaway PostgreSQL server for the mirror's PostgreSQL tests (mirror/tests/it/conformance.rs).
#
#   .ci/postgres.sh start DIR   initdb in DIR/data, start on 127.0.0.1 at a free port (and a unix
#                               socket in DIR/sock, nowhere else), create database skillscan_test,
#                               write DIR/env: `export SKILLSCAN_PG_URL=postgres://...`
#   .ci/postgres.sh stop DIR    stop it (the data stays until DIR is removed)
#
# The superuser `skillscan` gets a random password (scram-sha-256 over TCP); the socket directory
# is private to the server's user, which alone may use it (trust). DIR/env holds the password: it
# is made readable by its owner only. TCP takes TLS too (needs the openssl CLI), with a server
# certificate for 127.0.0.1 from a throwaway CA: DIR/tls/ca.crt, SKILLSCAN_PG_CA in DIR/env.
#
# initdb refuses to run as root: as root, the server runs as the `postgres` user (Debian's package
# creates it) or, failing that, a system user `skillscan-pg` made here; as anyone else it runs as
# that user. Server binaries: PG_BIN if set, else the newest /usr/lib/postgresql/*/bin, else PATH.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)

bin=${PG_BIN:-}
if [ -z "$bin" ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bin" ] && command -v pg_ctl >/dev/null; then bin=$(dirname "$(readlink -f "$(command -v pg_ctl)")"); fi
fi
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "postgres.sh: no PostgreSQL server binaries (install Debian's postgresql, or set PG_BIN)" >&2
  exit 1
fi

# Run a command as the server's user.
if [ "$(id -u)" = 0 ]; then
  user=postgres
  if ! id "$user" >/dev/null 2>&1; then
    user=skillscan-pg
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  fi
  as_pg() { runuser -u "$user" -- "$@"; }
else
  user=$(id -un)
  as_pg() { "$@"; }
fi

case "$cmd" in
start)
  if [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "postgres.sh: already running in $dir" >&2
    exit 1
  fi
  rm -rf "$dir/data" "$dir/sock"
  mkdir -p "$dir/data" "$dir/sock"
  chmod 700 "$dir/data" "$dir/sock"
  password=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
  umask 077
  printf '%s\n' "$password" >"$dir/pwfile"
  if [ "$(id -u)" = 0 ]; then
    chown "$user" "$dir" "$dir/data" "$dir/sock" "$dir/pwfile"
    # The server's user must reach DIR through its parents.
    p=$dir
    while [ "$p" != / ]; do
      p=$(dirname "$p")
      if ! runuser -u "$user" -- test -x "$p"; then
        echo "postgres.sh: $user cannot enter $p; pick a DIR under /tmp" >&2
        exit 1
      fi
    done
  fi
  # TLS with a CA of its own (DIR/tls/ca.crt, in DIR/env as SKILLSCAN_PG_CA) for the sslmode=require
  # tests; plain connections stay allowed. The keys never leave DIR/tls.
  mkdir -p "$dir/tls"
  (
    cd "$dir/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
      -days 30 -subj "/CN=skillscan test CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
      -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 30 \
      -extfile server.ext 2>/dev/null
    rm -f ca.key server.csr server.ext ca.srl
    chmod 600 server.key
    chmod 644 ca.crt server.crt
  )
  [ "$(id -u)" = 0 ] && chown -R "$user" "$dir/tls"
  as_pg "$bin/initdb" -D "$dir/data" -U skillscan --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-host=scram-sha-256 --auth-local=trust >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  # A free port: try a few random ones (another process may take one between the check and the start).
  started=
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 30000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c max_connections=200 -c fsync=off -c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key" start >/dev/null; then
      started=1
      break
    fi
  done
  if [ -z "$started" ]; then
    echo "postgres.sh: the server did not start; its log:" >&2
    cat "$dir/data/server.log" >&2 || true
    exit 1
  fi
  as_pg "$bin/psql" -X -q -h "$dir/sock" -p "$port" -U skillscan -d postgres -v ON_ERROR_STOP=1 \
    -c 'CREATE DATABASE skillscan_test'
  {
    echo "export SKILLSCAN_PG_URL=postgres://skillscan:$password@127.0.0.1:$port/skillscan_test"
    echo "export SKILLSCAN_PG_PORT=$port"
    echo "export SKILLSCAN_PG_SOCKET=$dir/sock"
    echo "export SKILLSCAN_PG_BIN=$bin"
    echo "export SKILLSCAN_PG_CA=$dir/tls/ca.crt"
  } >"$dir/env"
  [ "$(id -u)" = 0 ] || chmod 600 "$dir/env"
  echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir/data); source $dir/env"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  ;;
*) usage ;;
esac
