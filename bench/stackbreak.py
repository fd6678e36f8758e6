#!/usr/bin/env python3
"""Attribute perf samples to the nearest cdpd function (bench/profile.sh helper).

  perf script -i perf.data -F comm,ip,sym,dso | stackbreak.py [TOP] [BINARY_NAME]

Each sample's stack is walked from the leaf upwards; the first frame that lies in the cdpd
binary (BINARY_NAME, default "cdpd") names the bucket, so time spent in libc, cJSON, SQLite,
jemalloc, libmicrohttpd or the kernel on behalf of that function is charged to it. Each row
also splits the bucket by where the leaf (the instruction actually running) was.
Samples with no cdpd frame are bucketed by their thread and leaf library.
A second table groups samples by phase: the two cdpd functions called below the thread's
entry point (run_batch of the pipeline thread, on_request of the HTTP thread), e.g.
"cdp_track_run > save_event" or "sq_commit".
"""
import collections
import os
import sys

TOP = int(sys.argv[1]) if len(sys.argv) > 1 else 25
BIN = sys.argv[2] if len(sys.argv) > 2 else "cdpd"


def lib_class(dso):
    b = os.path.basename(dso.strip("()"))
    if "kernel" in b:
        return "kernel"
    for key, name in (("libcjson", "cJSON"), ("libsqlite3", "sqlite"), ("libjemalloc", "jemalloc"),
                      ("libmicrohttpd", "mhd"), ("libc.so", "libc"), ("libpcre2", "pcre2")):
        if b.startswith(key):
            return name
    if b == BIN:
        return "cdpd"
    return b or "?"


def samples(f):
    comm, frames = None, []
    for line in f:
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
            continue
        if not line[0].isspace():
            comm, frames = line.split()[0], []
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            continue
        rest = parts[1].rstrip()
        # "sym+off (dso)" or "sym (inlined)" or "[unknown] (dso)"
        if rest.endswith(")") and " (" in rest:
            sym, dso = rest.rsplit(" (", 1)
            dso = dso[:-1]
        else:
            sym, dso = rest, ""
        frames.append((sym, dso))
    if comm is not None:
        yield comm, frames


def main():
    total = 0
    bucket = collections.Counter()
    split = collections.defaultdict(collections.Counter)
    phase = collections.Counter()
    phase_split = collections.defaultdict(collections.Counter)
    ANCHORS = ("run_batch", "on_request", "dispatch")
    for comm, frames in samples(sys.stdin):
        if not frames:
            continue
        total += 1
        leaf = next((lib_class(d) for _, d in frames if d != "inlined"), "?")
        name = None
        pending_inlined = None
        for sym, dso in frames:
            if dso == "inlined":
                # inlined frames precede the real frame of the function they were inlined into
                pending_inlined = pending_inlined or sym
                continue
            if lib_class(dso) == "cdpd":
                name = pending_inlined or sym
                break
            pending_inlined = None
        if name is None:
            name = f"<{comm}: no cdpd frame, leaf in {leaf}>"
        bucket[name] += 1
        split[name][leaf] += 1
        # logical cdpd frames, root first (an inlined frame belongs to the next real frame's dso)
        logical, pend = [], []
        for sym, dso in frames:
            if dso == "inlined":
                pend.append(sym)
                continue
            if lib_class(dso) == "cdpd":
                logical.extend(pend + [sym.split("+")[0]])
            pend = []
        logical.reverse()
        idx = max((i for i, f in enumerate(logical) if f in ANCHORS), default=None)
        if idx is None:
            key = f"<{comm}: {logical[0] if logical else 'outside cdpd'}>"
        else:
            below = logical[idx + 1: idx + 3]
            key = f"{comm}: " + (" > ".join(below) if below else f"{logical[idx]} (self)")
        phase[key] += 1
        phase_split[key][leaf] += 1
    if not total:
        print("no samples")
        return
    print(f"{total} samples; bucket = nearest cdpd function on the stack (incl. library/kernel work it called)")
    print(f"{'%':>6}  {'function':<44} leaf split")
    for name, n in bucket.most_common(TOP):
        parts = ", ".join(f"{k} {100 * v / n:.0f}%" for k, v in split[name].most_common(4))
        print(f"{100 * n / total:6.2f}  {name[:44]:<44} {parts}")
    print()
    print("by phase (thread: first two cdpd calls below run_batch / on_request)")
    for name, n in phase.most_common(TOP):
        parts = ", ".join(f"{k} {100 * v / n:.0f}%" for k, v in phase_split[name].most_common(4))
        print(f"{100 * n / total:6.2f}  {name[:60]:<60} {parts}")


if __name__ == "__main__":
    main()
