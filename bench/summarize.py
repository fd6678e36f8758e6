#!/usr/bin/env python3
"""Summarise a bench/run.sh results directory (raw.tsv + env.txt) as Markdown on stdout.

  summarize.py bench/results/<timestamp>

Figures are medians over rounds with [min-max]; "x bare" is the ratio of a scenario's req/s to
the bare libmicrohttpd server's req/s in the same round, then the median of those ratios.
"""
import csv
import statistics
import sys
from collections import OrderedDict

LABELS = {
    "hello": "bare libmicrohttpd POST 1 KB (hello_mhd)",
    "ret_full": "/track returning, sync full",
    "new_full": "/track new profiles, sync full",
    "ret_normal": "/track returning, sync normal",
    "batch_full": "/track batch of 100 events, sync full",
    "ret_flow": "/track returning, each event runs a 5-node flow",
    "ret_slow": "ret_flow while a remote call waits 1 s, back to back",
    "ret_seg": "/track returning, 20 live segments",
}


def per_round_ratio(by, a, b, key="req_s"):
    """Median over rounds of a's key / b's key in the same round."""
    x = {r["round"]: num(r[key]) for r in by.get(a, [])}
    y = {r["round"]: num(r[key]) for r in by.get(b, [])}
    rs = [x[k] / y[k] for k in x if k in y and y[k] > 0]
    return (med(rs), min(rs), max(rs)) if rs else None


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def fmt_int(x):
    return "n/a" if x != x else f"{x:,.0f}"


def fmt_rng(xs, f=fmt_int):
    xs = [x for x in xs if x == x]
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return f(xs[0])
    return f"{f(med(xs))} [{f(min(xs))}–{f(max(xs))}]"


def f1(x):
    return "n/a" if x != x else f"{x:.1f}"


def f3(x):
    return "n/a" if x != x else f"{x:.3f}"


def f2(x):
    return "n/a" if x != x else f"{x:.2f}"


def main():
    d = sys.argv[1]
    rows = list(csv.DictReader(open(f"{d}/raw.tsv"), delimiter="\t"))
    env = OrderedDict()
    for line in open(f"{d}/env.txt"):
        if ":" in line:
            k, v = line.split(":", 1)
            env[k.strip()] = v.strip()

    by = OrderedDict()
    for r in rows:
        by.setdefault(r["scenario"], []).append(r)
    hello = {r["round"]: num(r["req_s"]) for r in by.get("hello", [])}

    out = []
    w = out.append
    w(f"## cdpd bench {d.rstrip('/').split('/')[-1]}")
    w("")
    w(f"{env.get('date_utc', '?')} UTC; {env.get('host_nproc', '?')} vCPU {env.get('cpu_model', '?')} "
      f"(family/model {env.get('cpu_family_model', '?')}, {env.get('cpu_mhz', '?')} MHz); "
      f"kernel {env.get('kernel', '?')}; {env.get('wrk', '?')}; libmicrohttpd {env.get('libmicrohttpd', '?')}; "
      f"{env.get('cdpd', '?')} (git {env.get('git_head', '?')}, {env.get('git_dirty_files', '?')} modified files).")
    w(f"{env.get('params', '')}. Server on CPU {env.get('params', '').split('SERVER_CPU=')[-1].split()[0] if 'SERVER_CPU=' in env.get('params', '') else '?'}, "
      f"wrk -t1 on the other; loopback; medians over rounds, [min–max]. "
      f"Load average at start {env.get('loadavg_start', '?')}, at end {env.get('loadavg_end', '?')}.")
    w("")
    w("| scenario | req/s | events/s | events/s ÷ bare req/s (same round) | p50 ms | p99 ms | non-2xx | sock err | bad body | "
      "CPU busy client/server % (wrk / server process) | server CPU µs/event | RSS idle → after load MB (peak) | RSS growth, 2nd half MB | ready ms | stop ms |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for s, rs in by.items():
        rps = [num(r["req_s"]) for r in rs]
        epr = int(rs[0]["events_per_req"] or 1)
        eps = [x * epr for x in rps]
        ratios = [num(r["req_s"]) * epr / hello[r["round"]] for r in rs
                  if s != "hello" and hello.get(r["round"], 0) > 0]
        p50 = med([num(r["p50_ms"]) for r in rs])
        p99 = med([num(r["p99_ms"]) for r in rs])
        non2xx = sum(int(num(r["non2xx"]) or 0) for r in rs if num(r["non2xx"]) == num(r["non2xx"]))
        sockerr = sum(int(num(r["sock_errors"])) for r in rs if num(r["sock_errors"]) == num(r["sock_errors"]))
        bad = sum(int(num(r["badbody"])) + int(num(r["errbody"])) for r in rs
                  if num(r["badbody"]) == num(r["badbody"]))
        noresp = sum(1 for r in rs if num(r["responses"]) <= 0)
        busy = (f"{med([num(r['cpu_client_busy']) for r in rs]):.0f} / {med([num(r['cpu_server_busy']) for r in rs]):.0f}"
                f" ({med([num(r.get('wrk_proc_cpu_pct')) for r in rs]):.0f} / {med([num(r.get('server_proc_cpu_pct')) for r in rs]):.0f})")
        us = med([num(r["server_cpu_us_per_req"]) / epr for r in rs])
        idle = med([num(r["rss_idle_kb"]) / 1024 for r in rs])
        after = med([num(r["rss_after_kb"]) / 1024 for r in rs])
        peak = max(num(r["hwm_kb"]) / 1024 for r in rs)
        ready = med([num(r["ready_ms"]) for r in rs])
        stop = med([num(r["stop_ms"]) for r in rs])
        growth = med([num(r.get("rss_growth_2nd_half_kb")) / 1024 for r in rs])
        summary[s] = dict(rps=med(rps), eps=med(eps), p99=p99, idle=idle, after=after, peak=peak,
                          ratio=med(ratios))
        w(f"| {LABELS.get(s, s)} | {fmt_rng(rps)} | {fmt_int(med(eps))} | "
          f"{'1' if s == 'hello' else fmt_rng(ratios, f3)} | {f2(p50)} | {f2(p99)} | {non2xx}"
          f"{' (no responses in %d runs!)' % noresp if noresp else ''} | {sockerr} | {bad} | {busy} | {f1(us)} | "
          f"{f1(idle)} → {f1(after)} ({f1(peak)}) | {f1(growth)} | {fmt_int(ready)} | {fmt_int(stop)} |")
    w("")
    w("Columns: events/s = req/s × events per request; events/s ÷ bare = the scenario's events/s ÷ the bare server's req/s in the "
      "same round, median over rounds (for one event per request this is the req/s ratio); non-2xx / sock err / bad body are totals over all rounds (bad body = 2xx "
      "whose profile id is missing or not the returning one, or whose \"errors\" is not empty); CPU busy = whole-CPU busy % of the "
      "client and server CPUs from /proc/stat over the wrk run (iowait idle, steal excluded; includes kernel "
      "work such as softirq and journal threads that land there), in brackets the CPU % of the wrk process and "
      "of the server process themselves; server CPU µs/event = server process "
      "utime+stime ÷ responses ÷ events per request; RSS = VmRSS 0.3 s after start and right after the load "
      "(peak = VmHWM, max over rounds); RSS growth = VmRSS at the end minus VmRSS half-way through the "
      "run (sampled every second; ≈ 0 once caches are full, > 0 while memory still grows); ready = launch to first HTTP answer (polled with curl, ~5 ms "
      "granularity); stop = SIGTERM to exit.")
    w("")

    # DESIGN.md §7 targets
    checks = []
    if "ret_full" in summary:
        x = summary["ret_full"]
        checks.append(("/track returning, durable: ≥ 15,000 req/s", f"{fmt_int(x['rps'])} req/s", x["rps"] >= 15000))
        checks.append(("/track returning, durable: p99 ≤ 10 ms at 64 connections", f"{f2(x['p99'])} ms", x["p99"] <= 10))
    if "batch_full" in summary:
        x = summary["batch_full"]
        checks.append(("batched events (100/request): ≥ 60,000 events/s", f"{fmt_int(x['eps'])} events/s", x["eps"] >= 60000))
    # issue 3 targets: flows cost at most 30 % of plain throughput; a waiting remote call
    # costs other profiles at most 10 %
    r = per_round_ratio(by, "ret_flow", "ret_full")
    if r:
        checks.append(("5-node flow: ≥ 70 % of plain /track req/s (ret_flow ÷ ret_full, same round)",
                       f"{r[0]:.1%} [{r[1]:.1%}–{r[2]:.1%}]", r[0] >= 0.70))
        c = per_round_ratio(by, "ret_full", "ret_flow", "server_cpu_us_per_req")
        if c:
            checks.append(("  the same as server CPU per request (ret_full µs ÷ ret_flow µs)",
                           f"{c[0]:.1%} [{c[1]:.1%}–{c[2]:.1%}]", c[0] >= 0.70))
    r = per_round_ratio(by, "ret_slow", "ret_flow")
    if r:
        checks.append(("a remote call waiting 1 s: others keep ≥ 90 % (ret_slow ÷ ret_flow)",
                       f"{r[0]:.1%} [{r[1]:.1%}–{r[2]:.1%}]", r[0] >= 0.90))
    r = per_round_ratio(by, "ret_seg", "ret_full")
    if r:
        checks.append(("20 live segments: ≥ 80 % of plain /track req/s (ret_seg ÷ ret_full)",
                       f"{r[0]:.1%} [{r[1]:.1%}–{r[2]:.1%}]", r[0] >= 0.80))
    cd = [v for k, v in summary.items() if k != "hello"]
    if cd:
        idle = max(v["idle"] for v in cd)
        checks.append(("idle RSS ≤ 16 MB (max over cdpd scenarios of the median)", f"{f1(idle)} MB", idle <= 16))
        peak = max(v["peak"] for v in cd)
        checks.append(("RSS under load ≤ 64 MB (VmHWM, incl. SQLite page cache)", f"{f1(peak)} MB", peak <= 64))
    if checks:
        w("| target (DESIGN.md §7, issues) | measured (median) | |")
        w("|---|---|---|")
        for name, val, ok in checks:
            w(f"| {name} | {val} | {'met' if ok else '**not met**'} |")
        w("")
    sizes = [(k[len('data_size_'):], v) for k, v in env.items() if k.startswith("data_size_")]
    if sizes:
        w("Data directory size at the end: " + ", ".join(f"{k} {v}" for k, v in sizes) + ".")
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
