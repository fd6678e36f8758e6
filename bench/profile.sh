#!/usr/bin/env bash
# bench/profile.sh: where does cdpd spend its time on /track? Runs cdpd (pinned to CPU 1, data
# prepared like bench/run.sh) under a profiler and prints the top functions.
#
#   bench/profile.sh                     # perf, /track returning, sync full, wrk for SECS seconds
#   MODE=new bench/profile.sh            # MODE = returning | new | batch
#   SYNC=normal bench/profile.sh
#   FLOWS=1 bench/profile.sh             # every event runs the 5-node flow (ret_flow)
#   PROFILER=callgrind N=3000 bench/profile.sh   # exact instruction counts, user space only
#
# PROFILER=auto (default): perf if `perf record` works. Hardware events are used when
# `perf stat -e instructions true` counts; otherwise (as on VMs without a PMU) the cpu-clock
# software timer is sampled, which still attributes CPU time, kernel included. PROFILER=callgrind
# uses valgrind --tool=callgrind and a fixed number N of requests (bench/prep.py send).
# Call graphs use DWARF unwinding (cdpd and its libraries are built without frame pointers).
# Output: bench/results/profile-<UTC timestamp>/ (perf.data or callgrind.out, reports).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
MODE=${MODE:-returning}
SYNC=${SYNC:-full}
SECS=${SECS:-5}
N=${N:-3000}
POOL=${POOL:-1000}
CONNS=${CONNS:-64}
PROFILER=${PROFILER:-auto}
TOP=${TOP:-30}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
CDPD=${CDPD:-$ROOT/build/cdpd}

OUT=$BENCH/results/profile-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/cdpd-profile.XXXXXX)
SRV_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$SRV_PID" ]] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$SRV_PID" 2>/dev/null && kill -KILL "$SRV_PID" 2>/dev/null || true
    fi
    [[ "${KEEP_DATA:-0}" == 1 ]] || rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ $PROFILER == auto ]]; then
    if perf record -e cpu-clock -o "$WORK/probe.data" -- true >/dev/null 2>&1; then
        PROFILER=perf
    elif command -v valgrind >/dev/null; then
        PROFILER=callgrind
    else
        die "neither perf nor valgrind usable"
    fi
fi
EVENT=cpu-clock
if [[ $PROFILER == perf ]] && perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
    EVENT=cycles
fi

[[ -x "$CDPD" ]] || die "no cdpd at $CDPD (build: ninja -C build cdpd)"
cp "$CDPD" "$OUT/cdpd"
CDPD_BIN=$OUT/cdpd

free_ports() {
    python3 -c 'import socket
ss=[socket.socket() for _ in range(2)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss))'
}
wait_http() {
    for _ in $(seq 4000); do
        kill -0 "$2" 2>/dev/null || return 1
        [[ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$1/" || true)" != 000 ]] && return 0
        sleep 0.01
    done
    return 1
}
# start_server DATA SYNC [wrapper...] -> SRV_PID PORT ADMIN_PORT
start_server() {
    local data=$1 sync=$2
    shift 2
    read -r PORT ADMIN_PORT < <(free_ports)
    taskset -c "$SERVER_CPU" "$@" "$CDPD_BIN" serve --data "$data" --listen "127.0.0.1:$PORT" \
        --admin-listen "127.0.0.1:$ADMIN_PORT" --sync "$sync" >>"$OUT/server.log" 2>&1 &
    SRV_PID=$!
    wait_http "$PORT" "$SRV_PID" || { cat "$OUT/server.log" >&2; die "cdpd did not start"; }
}
stop_server() {
    kill -TERM "$SRV_PID" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SRV_PID" 2>/dev/null && { log "WARNING: SIGKILL $SRV_PID"; kill -KILL "$SRV_PID"; }
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=""
}

# ---- data: user, event source, POOL returning profiles ----------------------------------------
log "preparing data ($POOL returning profiles)"
"$CDPD_BIN" user add --data "$WORK/data" --email admin@bench.local --password benchpass1 --role admin >/dev/null
start_server "$WORK/data" full
python3 "$BENCH/prep.py" source --admin "http://127.0.0.1:$ADMIN_PORT" >/dev/null
if [[ "${FLOWS:-0}" == 1 ]]; then # the 5-node flow of bench/run.sh's ret_flow on every event
    python3 "$BENCH/prep.py" flows --admin "http://127.0.0.1:$ADMIN_PORT" >/dev/null
fi
python3 "$BENCH/prep.py" pairs --url "http://127.0.0.1:$PORT" --n "$POOL" --out "$WORK/pairs.txt" >&2
stop_server

case $MODE in
returning) script=track_returning.lua; wargs=(-- "$WORK/pairs.txt"); epr=1 ;;
new) script=track_new.lua; wargs=(); epr=1 ;;
batch) script=track_batch.lua; wargs=(-- "$WORK/pairs.txt" 100); epr=100 ;;
*) die "MODE must be returning, new or batch" ;;
esac
echo "profile: MODE=$MODE SYNC=$SYNC PROFILER=$PROFILER EVENT=$EVENT SECS=$SECS N=$N $(date -u '+%F %T') UTC" \
    | tee "$OUT/params.txt" >&2

if [[ $PROFILER == perf ]]; then
    start_server "$WORK/data" "$SYNC"
    log "perf record -e $EVENT on cdpd pid $SRV_PID while wrk runs ${SECS}s"
    perf record -e "$EVENT" -F 999 --call-graph dwarf,16384 -p "$SRV_PID" -o "$OUT/perf.data" \
        >"$OUT/perf-record.log" 2>&1 &
    PERF_PID=$!
    sleep 0.5
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$BENCH/$script" \
        "http://127.0.0.1:$PORT/track" "${wargs[@]}" >"$OUT/wrk.txt" 2>&1 || true
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    stop_server
    grep -E 'Requests/sec|BENCH resp' "$OUT/wrk.txt" >&2 || true
    log "perf report"
    set +e +o pipefail # the reports are cut with head: SIGPIPE of perf report is expected
    R=(perf report -i "$OUT/perf.data" --stdio --no-header --percent-limit 0.3)
    {
        echo "### threads (comm)"
        "${R[@]}" --no-children --sort comm -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | head -20
        echo
        echo "### shared objects (self)"
        "${R[@]}" --no-children --sort dso -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | head -20
        echo
        echo "### top $TOP functions (self time)"
        "${R[@]}" --no-children --sort dso,sym -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | head -"$TOP"
        echo
        echo "### top $TOP functions (inclusive time, children)"
        "${R[@]}" --children --sort sym -g none 2>/dev/null | grep -v '^$' | grep -v '^#' | head -"$TOP"
        echo
        echo "### cdpd and libmicrohttpd functions (inclusive / self)"
        perf report -i "$OUT/perf.data" --stdio --no-header --children --sort sym -g none --percent-limit 0.3 \
            2>/dev/null | grep -E '\] (cdp_|sq_|pipeline|run_batch|on_request|track|payload|resolve|update_|save_|answer|MHD_|cJSON_Parse|cJSON_Print|sqlite3_step|fdatasync|fsync)' | head -40
        echo
        echo "### time charged to the nearest cdpd function, and by phase (bench/stackbreak.py)"
        perf script -i "$OUT/perf.data" -F comm,ip,sym,dso 2>/dev/null | python3 "$BENCH/stackbreak.py" "$TOP"
        echo
        echo "### immediate callers of the top 3 user-space self symbols"
        for sym in $("${R[@]}" --no-children --sort sym -g none 2>/dev/null | grep '\[\.\]' | head -3 | awk '{print $3}'); do
            echo "-- $sym"
            perf report -i "$OUT/perf.data" --stdio --no-header --no-children --symbols="$sym" \
                -g folded,0.2,callee,function,percent --max-stack 4 2>/dev/null | grep -v '^#' | grep -v '^$' | head -10 | cut -c1-200
        done
    } | tee "$OUT/report.txt"
else
    start_server "$WORK/data" "$SYNC" valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
        --dump-instr=no --collect-jumps=no --instr-atstart=no
    # start-up (UA regexes, YAML, SQLite open) is not collected: switch on once it answers
    callgrind_control -i on "$SRV_PID" >/dev/null
    log "callgrind: sending $N requests ($MODE)"
    python3 "$BENCH/prep.py" send --url "http://127.0.0.1:$PORT" --mode "$MODE" --n "$N" \
        --pairs "$WORK/pairs.txt" --threads 8 >&2
    stop_server
    set +e +o pipefail
    {
        echo "### top $TOP functions (self instructions; $N requests x $epr events)"
        callgrind_annotate --inclusive=no "$OUT/callgrind.out" 2>/dev/null | sed -n '/^Ir/,$p' | head -$((TOP + 2))
        echo
        echo "### top $TOP functions (inclusive instructions)"
        callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null | sed -n '/^Ir/,$p' | head -$((TOP + 2))
    } | tee "$OUT/report.txt"
fi
log "profile in $OUT"
