#!/usr/bin/env bash
# bench/cluster.sh: scale-out against embedded, in one run on this machine.
#
#   DUR=10s RUNS=3 bench/cluster.sh
#
# Each round measures, with returning profiles (bench/track_returning.lua, POOL pairs):
#   embedded  one `cdpd serve` (all roles, the embedded store, --sync full), one wrk -c CONNS;
#   cluster   deploy/local-cluster.sh (Redis with AOF fsync always, PostgreSQL, 1 API, 2
#             collectors, 2 workers), two wrk at once, CONNS/2 connections to each collector;
#             at the same time bench/cluster_lag.py measures /track acknowledgement -> event
#             queryable in PostgreSQL; afterwards the time for the workers to drain the backlog.
#             Once with Redis's appendfsync always (every acknowledged change on disk) and once
#             with everysec (FSYNC="always everysec").
# Around every wrk run the CPU time (utime + stime from /proc) of each process is read, so the
# per-event cost of each component (collectors, workers, Redis, PostgreSQL) is known.
# Nothing is pinned: the cluster needs both cores. Output: bench/results/cluster-<ts>/summary.md.
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
DUR=${DUR:-10s}
RUNS=${RUNS:-3}
CONNS=${CONNS:-64}
POOL=${POOL:-1000}
FSYNC=${FSYNC:-"always everysec"} # Redis appendfsync of the cluster runs
CDPD=${CDPD:-$ROOT/build/cdpd}
EMAIL=admin@bench.local
PASS=benchpass1
TS=$(date -u +%Y%m%d-%H%M%S)
OUT=$BENCH/results/cluster-$TS
WORK=$(mktemp -d /tmp/cdpd-cbench.XXXXXX)
chmod 755 "$WORK" # PostgreSQL runs as the postgres user when this runs as root
mkdir -p "$OUT"
cp "$CDPD" "$OUT/cdpd"
CDPD_BIN=$OUT/cdpd
EMB_PID=""
cleanup() {
    [ -n "$EMB_PID" ] && kill "$EMB_PID" 2>/dev/null || true
    CDPD_BIN=$CDPD_BIN "$ROOT/deploy/local-cluster.sh" stop "$WORK/cluster" >/dev/null 2>&1 || true
    [ -d "$WORK/cluster/logs" ] && cp -r "$WORK/cluster/logs" "$OUT/cluster-logs"
    rm -rf "$WORK"
}
trap cleanup EXIT
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || { echo "needs python3-psycopg2 (apt-get install python3-psycopg2)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -fsS "$1/healthcheck" >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }
cpu_of() { # pids... -> total CPU seconds
    local t=0
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] || continue
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "scale=2; $t / $(getconf CLK_TCK)" | bc
}
wrk_rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
pg_pids() { local pm; pm=$(head -1 "$WORK/cluster/pg/data/postmaster.pid"); echo "$pm $(pgrep -P "$pm" | tr '\n' ' ')"; }

# --- embedded ---
emb_round() {
    local d=$WORK/emb-$1 p1 p2
    p1=$(free_port); p2=$(free_port)
    "$CDPD_BIN" user add --data "$d" --email $EMAIL --password $PASS --role admin >/dev/null
    "$CDPD_BIN" serve --data "$d" --listen 127.0.0.1:$p1 --admin-listen 127.0.0.1:$p2 >"$OUT/emb-$1.log" 2>&1 &
    EMB_PID=$!
    wait_http http://127.0.0.1:$p1
    python3 "$BENCH/prep.py" source --admin http://127.0.0.1:$p2 --email $EMAIL --password $PASS >/dev/null
    python3 "$BENCH/prep.py" pairs --url http://127.0.0.1:$p1 --n "$POOL" --out "$WORK/pairs-emb" >/dev/null
    local c0; c0=$(cpu_of $EMB_PID)
    wrk -t2 -c"$CONNS" -d"$DUR" -s "$BENCH/track_returning.lua" http://127.0.0.1:$p1/track -- "$WORK/pairs-emb" >"$OUT/emb-$1.wrk"
    local c1; c1=$(cpu_of $EMB_PID)
    kill $EMB_PID; wait $EMB_PID || true; EMB_PID=""
    rm -rf "$d"
    echo "embedded $1 rps=$(wrk_rps "$OUT/emb-$1.wrk") cpu_cdpd=$(echo "$c1 - $c0" | bc)"
}

# --- cluster ---
cl_round() { # round, Redis appendfsync
    local d=$WORK/cluster
    CDPD_BIN=$CDPD_BIN REDIS_APPENDFSYNC=$2 "$ROOT/deploy/local-cluster.sh" start "$d" >"$OUT/cluster-$1.start"
    . "$d/env"
    "$CDPD_BIN" user add --store "$CDPD_STORE" --data "$d/data" --email $EMAIL --password $PASS --role admin >/dev/null
    python3 "$BENCH/prep.py" source --admin "$API" --email $EMAIL --password $PASS >/dev/null
    python3 "$BENCH/prep.py" pairs --url "$COLLECTOR1" --n "$POOL" --out "$WORK/pairs-cl" >/dev/null
    local col="$(cat "$d/collector1.pid") $(cat "$d/collector2.pid")"
    local wor="$(cat "$d/worker1.pid") $(cat "$d/worker2.pid")"
    local red; red=$(cat "$d/redis.pid")
    local pgp; pgp=$(pg_pids)
    local a0 b0 r0 q0; a0=$(cpu_of $col); b0=$(cpu_of $wor); r0=$(cpu_of $red); q0=$(cpu_of $pgp)
    local half=$((CONNS / 2))
    wrk -t1 -c$half -d"$DUR" -s "$BENCH/track_returning.lua" "$COLLECTOR1/track" -- "$WORK/pairs-cl" >"$OUT/cl-$1-a.wrk" &
    local w1=$!
    wrk -t1 -c$half -d"$DUR" -s "$BENCH/track_returning.lua" "$COLLECTOR2/track" -- "$WORK/pairs-cl" >"$OUT/cl-$1-b.wrk" &
    local w2=$!
    /usr/bin/python3 "$BENCH/cluster_lag.py" --url "$COLLECTOR1" --pg "$CDPD_STORE" --seconds "${DUR%s}" >"$OUT/cl-$1.lag"
    wait $w1 $w2
    local t0; t0=$(date +%s.%N)
    until [ "$(curl -s "$API/storage/backlog" | python3 -c 'import sys,json; d=json.load(sys.stdin); print(sum(c["pending"]+c["lag"] for c in d["contexts"].values()))')" = 0 ]; do sleep 0.05; done
    local drain; drain=$(echo "$(date +%s.%N) - $t0" | bc)
    pgp=$(pg_pids)
    local a1 b1 r1 q1; a1=$(cpu_of $col); b1=$(cpu_of $wor); r1=$(cpu_of $red); q1=$(cpu_of $pgp)
    local stored; stored=$(psql -qtA "$CDPD_STORE" -c "select count(*) from production.event where type='page-view'")
    local rps; rps=$(echo "$(wrk_rps "$OUT/cl-$1-a.wrk") + $(wrk_rps "$OUT/cl-$1-b.wrk")" | bc)
    echo "cluster($2) $1 rps=$rps drain_s=$drain stored_page_views=$stored cpu_collectors=$(echo "$a1 - $a0" | bc) cpu_workers=$(echo "$b1 - $b0" | bc) cpu_redis=$(echo "$r1 - $r0" | bc) cpu_postgres=$(echo "$q1 - $q0" | bc) $(cat "$OUT/cl-$1.lag")"
    CDPD_BIN=$CDPD_BIN "$ROOT/deploy/local-cluster.sh" stop "$d" >/dev/null
    rm -rf "$d"
}

{
    echo "# cluster bench $TS"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {print $2/1048576 " GiB"}' /proc/meminfo); $(uname -r); git $(git -C "$ROOT" rev-parse --short HEAD)"
    echo "DUR=$DUR CONNS=$CONNS POOL=$POOL"
} >"$OUT/summary.md"
for r in $(seq "$RUNS"); do
    emb_round "$r" | tee -a "$OUT/summary.md"
    for f in $FSYNC; do cl_round "$r" "$f" | tee -a "$OUT/summary.md"; done
done
echo "results in $OUT"
