#!/bin/sh
# A throwaway PostgreSQL server on loopback for tests and the local cluster.
#   pg-server.sh start DIR [PORT]   initdb in DIR (once), start on PORT (default: a free one),
#                                   print the URL postgres://cdpd@127.0.0.1:PORT/cdpd
#   pg-server.sh stop DIR           stop it (fast shutdown), keep DIR
#   pg-server.sh url DIR            print the URL of the running server
# As root, the server runs as the postgres user (PostgreSQL refuses to run as root).
set -eu
cmd=${1:?usage: pg-server.sh start|stop|url DIR [PORT]}
dir=${2:?usage: pg-server.sh start|stop|url DIR [PORT]}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/postgres" ] || { echo "pg-server.sh: PostgreSQL is not installed (Debian: postgresql)" >&2; exit 3; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case $cmd in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        runuser -u postgres -- test -w "$dir" || {
            echo "pg-server.sh: the postgres user cannot write $dir (a parent directory is private); use one it can enter, e.g. under /tmp" >&2
            exit 1
        }
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U cdpd -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port=${3:-$(free_port)}
    # fsync stays on: acknowledged means durable, in tests too (the fault tests kill -9 it)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB" >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U cdpd -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'cdpd'" | grep -q 1; then
        "$bin/createdb" -h 127.0.0.1 -p "$port" -U cdpd cdpd
    fi
    echo "$port" >"$dir/port"
    echo "postgres://cdpd@127.0.0.1:$port/cdpd"
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    ;;
url)
    echo "postgres://cdpd@127.0.0.1:$(cat "$dir/port")/cdpd"
    ;;
*)
    echo "pg-server.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
