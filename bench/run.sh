#!/usr/bin/env bash
# bench/run.sh: throughput / latency / memory benchmark of cdpd's collector (/track) against a
# bare libmicrohttpd server measured in the same run. Method of
# /work/shared/reference/limits-measured.md: server pinned to CPU 1, wrk pinned to CPU 0,
# loopback only, time-bounded runs, median of repeats, ratios taken within one run (round).
#
#   RUNS=3 DUR=10s bench/run.sh
#
# Environment (defaults):
#   RUNS=3           rounds; each round runs every scenario once, in order, on a fresh server start
#   DUR=10s          wrk duration per run            CONNS=64  wrk connections (wrk -t1)
#   POOL=1000        returning (profile, session) pairs  BATCH=100  events per batch request
#   SCENARIOS="hello ret_full new_full ret_normal batch_full"   subset / order to run
#   CDPD=build/cdpd  binary to measure (copied into the results dir first, so a concurrent
#                    rebuild cannot swap it mid-run); NO_BUILD=1 skips `ninja -C build cdpd`
#   SERVER_CPU=1 CLIENT_CPU=0   KEEP_DATA=1 keeps the cdpd data directories (under /tmp)
#
# Scenarios: hello      = bench/bin/hello_mhd, POST of the same ~1 KB body (bench/post_hello.lua)
#            ret_full   = cdpd --sync full,   /track returning profiles   (track_returning.lua)
#            new_full   = cdpd --sync full,   /track new profiles          (track_new.lua)
#            ret_normal = cdpd --sync normal, /track returning profiles   (track_returning.lua)
#            batch_full = cdpd --sync full,   /track 100 events/request    (track_batch.lua)
#            ret_flow   = ret_full, every event running a 5-node flow (start -> if -> copy data ->
#                         increment -> add segment; bench/prep.py flows)
#            ret_slow   = ret_full while another client keeps a remote-call flow waiting 1 s on a
#                         slow local server, request after request (prep.py slowloop/slowserver)
#            ret_seg    = ret_full with 20 live segments evaluated after every page view
#                         (prep.py segments)
# Every cdpd scenario has its own copy of one prepared data directory (user, event source
# "bench", POOL profiles each with one session), so scenarios do not feed each other's data;
# the data of one scenario does grow from round to round.
#
# Output: bench/results/<UTC timestamp>/ with raw wrk outputs (raw/), server logs, raw.tsv
# (one line per wrk run), env.txt (machine, versions, git state) and summary.md, which is also
# printed to stdout.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
RUNS=${RUNS:-3}
DUR=${DUR:-10s}
CONNS=${CONNS:-64}
POOL=${POOL:-1000}
BATCH=${BATCH:-100}
SCENARIOS=${SCENARIOS:-"hello ret_full new_full ret_normal batch_full"}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
CDPD=${CDPD:-$ROOT/build/cdpd}
EMAIL=admin@bench.local
PASS=benchpass1

TS=$(date -u +%Y%m%d-%H%M%S)
OUT=$BENCH/results/$TS
mkdir -p "$OUT/raw" "$OUT/logs" "$BENCH/bin"
WORK=$(mktemp -d /tmp/cdpd-bench.XXXXXX)

SRV_PID=""
RSS_LOOP=""
SLOW_SRV=""
cleanup() {
    local rc=$?
    [[ -n "$RSS_LOOP" ]] && kill "$RSS_LOOP" 2>/dev/null || true
    [[ -n "$SLOW_SRV" ]] && kill "$SLOW_SRV" 2>/dev/null || true
    if [[ -n "$SRV_PID" ]] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$SRV_PID" 2>/dev/null && kill -KILL "$SRV_PID" 2>/dev/null || true
    fi
    if [[ "${KEEP_DATA:-0}" != 1 ]]; then rm -rf "$WORK"; else echo "data kept in $WORK" >&2; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v wrk >/dev/null || die "wrk not installed (apt-get install -y wrk)"
command -v taskset >/dev/null || die "taskset not installed"
command -v python3 >/dev/null || die "python3 needed for bench/prep.py and bench/summarize.py"

# ---- build --------------------------------------------------------------------------------
log "building bench/bin/hello_mhd"
gcc -O2 -Wall -Wextra -o "$BENCH/bin/hello_mhd" "$BENCH/hello_mhd.c" -lmicrohttpd -lpthread

if [[ "${NO_BUILD:-0}" != 1 && "$CDPD" == "$ROOT/build/cdpd" ]]; then
    log "building cdpd (ninja -C build cdpd)"
    [[ -f "$ROOT/build/build.ninja" ]] || (cd "$ROOT" && meson setup build >/dev/null)
    if ! ninja -C "$ROOT/build" cdpd >"$OUT/logs/build.log" 2>&1; then
        tail -20 "$OUT/logs/build.log" >&2
        [[ -x "$CDPD" ]] || die "cdpd build failed (see $OUT/logs/build.log)"
        log "WARNING: cdpd build failed (sources being edited?); measuring the existing $CDPD"
        echo "build_failed_used_existing_binary: yes" >>"$OUT/logs/build.log"
    fi
fi
[[ -x "$CDPD" ]] || die "no cdpd binary at $CDPD"
cp "$CDPD" "$OUT/cdpd"
CDPD_BIN=$OUT/cdpd

# ---- environment record -------------------------------------------------------------------
{
    echo "date_utc: $(date -u '+%Y-%m-%d %H:%M:%S')"
    echo "host_nproc: $(nproc)"
    echo "cpu_model: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "cpu_family_model: $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')/$(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
    echo "cpu_mhz: $(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
    echo "mem_total: $(grep MemTotal /proc/meminfo | awk '{print $2" kB"}')"
    echo "kernel: $(uname -r)"
    echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
    echo "fs_tmp: $(df -T /tmp | awk 'NR==2{print $1" "$2}')"
    echo "wrk: $(wrk -v 2>&1 | head -1)"
    echo "libmicrohttpd: $(dpkg-query -W -f='${Version}' libmicrohttpd12 2>/dev/null || echo '?')"
    echo "gcc: $(gcc -dumpfullversion)"
    echo "cdpd: $("$CDPD_BIN" version 2>&1 | head -1)"
    echo "cdpd_sha256: $(sha256sum "$CDPD_BIN" | cut -c1-16)"
    echo "cdpd_mtime: $(date -u -r "$CDPD" '+%Y-%m-%d %H:%M:%S')"
    echo "cdpd_build_failed: $(grep -q build_failed "$OUT/logs/build.log" 2>/dev/null && echo yes || echo no)"
    echo "git_head: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "git_dirty_files: $(git -C "$ROOT" status --porcelain 2>/dev/null | grep -v '^??' | wc -l)"
    echo "loadavg_start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "params: RUNS=$RUNS DUR=$DUR CONNS=$CONNS POOL=$POOL BATCH=$BATCH SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU"
    echo "scenarios: $SCENARIOS"
} >"$OUT/env.txt"
git -C "$ROOT" status --porcelain >"$OUT/git-status.txt" 2>/dev/null || true

# ---- helpers ------------------------------------------------------------------------------
free_ports() { # N -> N free loopback TCP ports
    python3 - "$1" <<'EOF'
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
EOF
}
now_ns() { date +%s%N; }
status_kb() { awk -v k="$2:" '$1==k{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime+stime, all threads
children_cpu_ms() { # sets CHILD_MS = CPU ms of all terminated children of this shell
    times >"$WORK/times.txt" # the builtin, in this shell (a $(...) subshell would see no children)
    CHILD_MS=$(awk 'NR==2{ split($1,u,"m"); split($2,s,"m"); sub("s","",u[2]); sub("s","",s[2]);
                printf "%.0f", (u[1]*60+u[2]+s[1]*60+s[2])*1000 }' "$WORK/times.txt")
}
cpu_line() { grep "^cpu$1 " /proc/stat; }
# busy% and steal% of one CPU between two /proc/stat lines (iowait counts as idle, steal excluded)
cpu_busy() {
    awk -v a="$1" -v b="$2" 'BEGIN{
        n=split(a,x," "); split(b,y," ");
        for(i=2;i<=n;i++) d[i]=y[i]-x[i];
        tot=0; for(i=2;i<=9;i++) tot+=d[i];
        idle=d[5]+d[6]; st=d[9]; busy=tot-idle-st;
        if (tot-st<=0) {print "0 0"; exit}
        printf "%.0f %.0f\n", 100*busy/(tot-st), 100*st/tot }'
}

wait_http() { # PORT PID -> ms until the port answers HTTP (any status); fails after 10 s
    local port=$1 pid=$2 t0=$3 code
    for _ in $(seq 2000); do
        kill -0 "$pid" 2>/dev/null || return 1
        code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$port/" || true)
        if [[ "$code" != "000" && -n "$code" ]]; then
            echo $((($(now_ns) - t0) / 1000000))
            return 0
        fi
        sleep 0.005
    done
    return 1
}

# start_server SCEN LOGFILE -> sets SRV_PID PORT READY_MS
start_server() {
    local scen=$1 logf=$2 ports p1 p2 t0 sync
    ports=$(free_ports 2)
    p1=${ports% *}
    p2=${ports#* }
    t0=$(now_ns)
    if [[ "$scen" == hello ]]; then
        taskset -c "$SERVER_CPU" "$BENCH/bin/hello_mhd" "$p1" >"$logf" 2>&1 &
    else
        case $scen in ret_normal) sync=normal ;; *) sync=full ;; esac
        taskset -c "$SERVER_CPU" "$CDPD_BIN" serve --data "$WORK/$scen" --listen "127.0.0.1:$p1" \
            --admin-listen "127.0.0.1:$p2" --sync "$sync" >"$logf" 2>&1 &
    fi
    SRV_PID=$!
    PORT=$p1
    ADMIN_PORT=$p2
    READY_MS=$(wait_http "$p1" "$SRV_PID" "$t0") || { cat "$logf" >&2; die "$scen server did not start"; }
}

# stop_server -> sets STOP_MS (-1 if it had to be killed)
stop_server() {
    local t0
    t0=$(now_ns)
    kill -TERM "$SRV_PID" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$SRV_PID" 2>/dev/null; then
        log "WARNING: server $SRV_PID did not stop in 15 s after SIGTERM; SIGKILL"
        kill -KILL "$SRV_PID" 2>/dev/null || true
        STOP_MS=-1
    else
        STOP_MS=$((($(now_ns) - t0) / 1000000))
    fi
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=""
}

# ---- prepare cdpd data: user, event source, POOL returning profiles -------------------------
needs_cdpd=0
for s in $SCENARIOS; do if [[ $s != hello ]]; then needs_cdpd=1; fi; done
if [[ $needs_cdpd == 1 ]]; then
    log "preparing data: user, event source, $POOL returning profiles"
    mkdir -p "$WORK/template"
    "$CDPD_BIN" user add --data "$WORK/template" --email "$EMAIL" --password "$PASS" --role admin \
        >"$OUT/logs/prep.log" 2>&1 || { cat "$OUT/logs/prep.log" >&2; die "cdpd user add failed"; }
    # reuse start_server with a scenario name whose data dir is the template
    ln -s "$WORK/template" "$WORK/prep"
    start_server prep "$OUT/logs/prep-server.log"
    python3 "$BENCH/prep.py" source --admin "http://127.0.0.1:$ADMIN_PORT" --email "$EMAIL" \
        --password "$PASS" >>"$OUT/logs/prep.log" 2>&1 || { cat "$OUT/logs/prep.log" >&2; die "prep source failed"; }
    python3 "$BENCH/prep.py" pairs --url "http://127.0.0.1:$PORT" --n "$POOL" --out "$WORK/pairs.txt" \
        >>"$OUT/logs/prep.log" 2>&1 || { cat "$OUT/logs/prep.log" >&2; die "prep pairs failed"; }
    stop_server
    rm -f "$WORK/prep"
    cp "$WORK/pairs.txt" "$OUT/pairs.txt"
    tail -1 "$OUT/logs/prep.log" >&2
    if [[ " $SCENARIOS " == *" ret_flow "* || " $SCENARIOS " == *" ret_slow "* ]]; then
        SLOW_PORT=$(free_ports 1)
        python3 "$BENCH/prep.py" slowserver --port "$SLOW_PORT" --delay 1.0 >>"$OUT/logs/prep.log" 2>&1 &
        SLOW_SRV=$!
        cp -a "$WORK/template" "$WORK/template-flow"
        ln -s "$WORK/template-flow" "$WORK/prep"
        start_server prep "$OUT/logs/prep-flow-server.log"
        python3 "$BENCH/prep.py" flows --admin "http://127.0.0.1:$ADMIN_PORT" --email "$EMAIL" \
            --password "$PASS" --slow-url "http://127.0.0.1:$SLOW_PORT/slow" >>"$OUT/logs/prep.log" 2>&1 ||
            { cat "$OUT/logs/prep.log" >&2; die "prep flows failed"; }
        stop_server
        rm -f "$WORK/prep"
    fi
    if [[ " $SCENARIOS " == *" ret_seg "* ]]; then
        cp -a "$WORK/template" "$WORK/template-seg"
        ln -s "$WORK/template-seg" "$WORK/prep"
        start_server prep "$OUT/logs/prep-seg-server.log"
        python3 "$BENCH/prep.py" segments --admin "http://127.0.0.1:$ADMIN_PORT" --email "$EMAIL" \
            --password "$PASS" >>"$OUT/logs/prep.log" 2>&1 ||
            { cat "$OUT/logs/prep.log" >&2; die "prep segments failed"; }
        stop_server
        rm -f "$WORK/prep"
    fi
    for s in $SCENARIOS; do
        case $s in
        hello) ;;
        ret_flow | ret_slow) cp -a "$WORK/template-flow" "$WORK/$s" ;;
        ret_seg) cp -a "$WORK/template-seg" "$WORK/$s" ;;
        *) cp -a "$WORK/template" "$WORK/$s" ;;
        esac
    done
fi

# ---- runs ---------------------------------------------------------------------------------
printf 'scenario\tround\treq_s\tevents_per_req\tp50_ms\tp99_ms\tnon2xx\tsock_errors\tbadbody\terrbody\tresponses\tcpu_client_busy\tcpu_server_busy\tcpu_server_steal\tserver_cpu_us_per_req\trss_idle_kb\trss_after_kb\thwm_kb\trss_anon_after_kb\tready_ms\tstop_ms\twrk_proc_cpu_pct\tserver_proc_cpu_pct\trss_growth_2nd_half_kb\n' >"$OUT/raw.tsv"

parse_wrk() { # FILE -> "rps p50_ms p99_ms"
    python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, u):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[u]
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p = {k: re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s|m)\s*$" % k, t, re.M) for k in ("50", "99")}
print(rps.group(1) if rps else "nan",
      *("%.3f" % ms(*p[k].groups()) if p[k] else "nan" for k in ("50", "99")))
EOF
}
bench_field() { # FILE KEY -> value from the BENCH line printed by the wrk script
    local v
    v=$(grep -o "\b$2=[0-9]*" "$1" | head -1 | cut -d= -f2)
    echo "${v:-0}"
}

log "running: RUNS=$RUNS DUR=$DUR CONNS=$CONNS, scenarios: $SCENARIOS"
for r in $(seq "$RUNS"); do
    for s in $SCENARIOS; do
        case $s in
        hello) script=post_hello.lua; args=(); epr=1 ;;
        ret_full | ret_normal | ret_flow | ret_slow | ret_seg)
            script=track_returning.lua; args=(-- "$WORK/pairs.txt"); epr=1 ;;
        new_full) script=track_new.lua; args=(); epr=1 ;;
        batch_full) script=track_batch.lua; args=(-- "$WORK/pairs.txt" "$BATCH"); epr=$BATCH ;;
        *) die "unknown scenario $s" ;;
        esac
        start_server "$s" "$OUT/logs/$s.round$r.log"
        sleep 0.3
        rss_idle=$(status_kb "$SRV_PID" VmRSS)
        raw="$OUT/raw/$s.round$r.txt"
        children_cpu_ms
        wa=$CHILD_MS
        c0a=$(cpu_line "$CLIENT_CPU"); c1a=$(cpu_line "$SERVER_CPU"); ta=$(proc_ticks "$SRV_PID"); w0=$(now_ns)
        rss_log="$OUT/raw/$s.round$r.rss"
        ( while kill -0 "$SRV_PID" 2>/dev/null; do
              printf '%s %s\n' "$(date +%s.%N | cut -c1-14)" "$(status_kb "$SRV_PID" VmRSS)"; sleep 1
          done >"$rss_log" ) &
        RSS_LOOP=$!
        SLOW_LOOP=""
        if [[ $s == ret_slow ]]; then
            python3 "$BENCH/prep.py" slowloop --url "http://127.0.0.1:$PORT" --seconds "${DUR%s}" \
                >"$OUT/raw/$s.round$r.slowloop" 2>&1 &
            SLOW_LOOP=$!
        fi
        taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$DUR" --latency -s "$BENCH/$script" \
            "http://127.0.0.1:$PORT/track" "${args[@]}" >"$raw" 2>&1 || log "WARNING: wrk exit $? ($s round $r)"
        if [[ -n "$SLOW_LOOP" ]]; then
            wait "$SLOW_LOOP" || log "WARNING: slowloop failed ($s round $r)"
            log "$(cat "$OUT/raw/$s.round$r.slowloop")"
        fi
        c0b=$(cpu_line "$CLIENT_CPU"); c1b=$(cpu_line "$SERVER_CPU"); tb=$(proc_ticks "$SRV_PID"); w1=$(now_ns)
        kill "$RSS_LOOP" 2>/dev/null || true
        wait "$RSS_LOOP" 2>/dev/null || true
        children_cpu_ms
        wb=$CHILD_MS
        rss_after=$(status_kb "$SRV_PID" VmRSS)
        hwm=$(status_kb "$SRV_PID" VmHWM)
        anon=$(status_kb "$SRV_PID" RssAnon)
        # RSS growth over the second half of the run (kB): ~0 when caches have filled, > 0 if still growing
        rss_growth=$(awk '{v[NR]=$2} END{ if (NR>=4) print v[NR]-v[int(NR/2)]; else print "nan" }' "$rss_log")
        [[ $s == hello ]] || ls -l "$WORK/$s" | awk -v r="$r" -v s="$s" 'NR>1{print s, "round", r, $5, $9}' >>"$OUT/data-files.txt"
        stop_server
        read -r rps p50 p99 < <(parse_wrk "$raw")
        read -r busy0 _ < <(cpu_busy "$c0a" "$c0b")
        read -r busy1 steal1 < <(cpu_busy "$c1a" "$c1b")
        resp=$(bench_field "$raw" responses); resp=${resp:-0}
        non2xx=$(bench_field "$raw" non2xx)
        sockerr=$(($(bench_field "$raw" sock_connect) + $(bench_field "$raw" sock_read) + $(bench_field "$raw" sock_write) + $(bench_field "$raw" sock_timeout)))
        badbody=$(bench_field "$raw" badbody)
        errbody=$(bench_field "$raw" errbody)
        hz=$(getconf CLK_TCK)
        wall_ms=$(((w1 - w0) / 1000000))
        wrk_pct=$(awk -v c=$((wb - wa)) -v w="$wall_ms" 'BEGIN{ printf "%.0f", (w > 0 ? 100*c/w : 0) }')
        srv_pct=$(awk -v t=$((tb - ta)) -v hz="$(getconf CLK_TCK)" -v w="$wall_ms" 'BEGIN{ printf "%.0f", (w > 0 ? 100*t*1000/hz/w : 0) }')
        us_req=$(awk -v t=$((tb - ta)) -v hz="$hz" -v n="$resp" 'BEGIN{ if (n>0) printf "%.1f", t*1e6/hz/n; else print "nan" }')
        printf '%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
            "$s" "$r" "$rps" "$epr" "$p50" "$p99" "${non2xx:-nan}" "$sockerr" "${badbody:-nan}" "${errbody:-nan}" \
            "$resp" "$busy0" "$busy1" "$steal1" "$us_req" "$rss_idle" "$rss_after" "$hwm" "$anon" "$READY_MS" "$STOP_MS" \
            "$wrk_pct" "$srv_pct" "$rss_growth" >>"$OUT/raw.tsv"
        log "round $r $s: $rps req/s, p50 ${p50} ms, p99 ${p99} ms, non-2xx ${non2xx:-?}, sock errors $sockerr, CPU$CLIENT_CPU/$SERVER_CPU busy $busy0/$busy1 % (wrk $wrk_pct %, server $srv_pct %), RSS ${rss_idle}->${rss_after} kB"
    done
done

echo "loadavg_end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"
for s in $SCENARIOS; do
    [[ $s == hello ]] || echo "data_size_$s: $(du -sk "$WORK/$s" | cut -f1) kB" >>"$OUT/env.txt"
done

python3 "$BENCH/summarize.py" "$OUT" | tee "$OUT/summary.md"
log "results in $OUT"
