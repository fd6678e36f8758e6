#!/bin/sh
# cdpd in scale-out mode on this machine, on loopback: a Redis server (AOF, fsync always), a
# PostgreSQL server (initdb in DIR), then one API, two collectors and two workers as separate
# processes of the same binary on the shared engines.
#   local-cluster.sh start [DIR]   (default DIR: ./cluster; CDPD_BIN: ./build/cdpd)
#   local-cluster.sh stop [DIR]    stops them by pid, keeps DIR (start again to resume)
# DIR/env has the URLs (CDPD_STORE, CDPD_CACHE, CDPD_QUEUE, COLLECTOR1, COLLECTOR2, API) and
# DIR/logs/ the logs. Ports come from COLLECTOR_PORT (8686; +10 for the second), API_PORT (8687)
# or, when they are taken, free ones. REDIS_APPENDFSYNC=everysec trades the last second of
# acknowledged changes on a Redis crash for fewer fsyncs (default: always).
set -eu
cmd=${1:?usage: local-cluster.sh start|stop [DIR]}
dir=${2:-./cluster}
here=$(cd "$(dirname "$0")" && pwd)
bin=${CDPD_BIN:-$here/../build/cdpd}

free_port() {
    /usr/bin/python3 - "$1" <<'PY'
import socket, sys
want = int(sys.argv[1])
for port in (want, 0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(s.getsockname()[1])
        break
    except OSError:
        continue
    finally:
        s.close()
PY
}

wait_http() { # port
    i=0
    until curl -fsS "http://127.0.0.1:$1/healthcheck" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 200 ] || { echo "local-cluster: nothing answers on port $1; see $dir/logs" >&2; return 1; }
        sleep 0.05
    done
}

start_cdpd() { # name, then serve's flags
    name=$1
    shift
    # shellcheck disable=SC2086
    nohup "$bin" serve --store "$CDPD_STORE" --cache "$CDPD_CACHE" --queue "$CDPD_QUEUE" \
        --data "$dir/data" "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
}

stop_pid() { # pidfile
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if kill "$pid" 2>/dev/null; then
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

case $cmd in
start)
    [ -x "$bin" ] || { echo "local-cluster: no binary at $bin (make build)" >&2; exit 1; }
    mkdir -p "$dir/logs" "$dir/redis" "$dir/data"
    dir=$(cd "$dir" && pwd)
    for f in "$dir"/*.pid; do
        [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null &&
            { echo "local-cluster: already running in $dir (local-cluster.sh stop $dir)" >&2; exit 1; }
    done
    rport=$(free_port 6390)
    redis-server --port "$rport" --bind 127.0.0.1 --dir "$dir/redis" --appendonly yes \
        --appendfsync "${REDIS_APPENDFSYNC:-always}" --save "" --daemonize yes --pidfile "$dir/redis.pid" \
        --logfile "$dir/logs/redis.log" --databases 64
    i=0
    until redis-cli -p "$rport" ping >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 200 ] || { echo "local-cluster: redis did not start" >&2; exit 1; }
        sleep 0.05
    done
    CDPD_STORE=$("$here/pg-server.sh" start "$dir/pg")
    CDPD_CACHE="redis://127.0.0.1:$rport/0"
    CDPD_QUEUE="redis://127.0.0.1:$rport/0"
    aport=$(free_port "${API_PORT:-8687}")
    c1=$(free_port "${COLLECTOR_PORT:-8686}")
    c2=$(free_port $((${COLLECTOR_PORT:-8686} + 10)))
    # the API first: it makes the installation's salt and secret key, which the others share
    start_cdpd api --roles api --admin-listen "127.0.0.1:$aport"
    wait_http "$aport"
    start_cdpd collector1 --roles collector --listen "127.0.0.1:$c1"
    start_cdpd collector2 --roles collector --listen "127.0.0.1:$c2"
    start_cdpd worker1 --roles worker
    start_cdpd worker2 --roles worker
    wait_http "$c1"
    wait_http "$c2"
    sleep 0.2
    for w in worker1 worker2; do
        kill -0 "$(cat "$dir/$w.pid")" 2>/dev/null || { echo "local-cluster: $w exited; see $dir/logs/$w.log" >&2; exit 1; }
    done
    cat >"$dir/env" <<ENV
CDPD_STORE=$CDPD_STORE
CDPD_CACHE=$CDPD_CACHE
CDPD_QUEUE=$CDPD_QUEUE
COLLECTOR1=http://127.0.0.1:$c1
COLLECTOR2=http://127.0.0.1:$c2
API=http://127.0.0.1:$aport
ENV
    echo "cdpd cluster running in $dir"
    echo "  collectors:  http://127.0.0.1:$c1  http://127.0.0.1:$c2"
    echo "  management:  http://127.0.0.1:$aport"
    echo "  workers:     2 (logs in $dir/logs)"
    echo "  postgresql:  $CDPD_STORE"
    echo "  redis:       $CDPD_CACHE (AOF, appendfsync ${REDIS_APPENDFSYNC:-always})"
    echo "  first user:  $bin user add --store $CDPD_STORE --data $dir/data --email you@example.com --password ... --role admin"
    echo "  stop:        make cluster-stop  (or $0 stop $dir)"
    ;;
stop)
    [ -d "$dir" ] || exit 0
    for name in collector1 collector2 api worker1 worker2; do stop_pid "$dir/$name.pid"; done
    stop_pid "$dir/redis.pid"
    "$here/pg-server.sh" stop "$dir/pg" || true
    echo "cdpd cluster in $dir stopped"
    ;;
*)
    echo "local-cluster.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
