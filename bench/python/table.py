#!/usr/bin/env python3
"""Side-by-side table of aio_bench and its peers' JSON lines (stdlib only).

    table.py --aio aio.jsonl --peer asyncio=asyncio.jsonl [--peer uvloop=uvloop.jsonl] [--peer c_epoll=c.jsonl]

Several files for the same program (--aio a1 --aio a2, --peer asyncio=p1
--peer asyncio=p2) are merged: per workload and metric, the best value of the
runs is shown (for a shared, noisy machine; say so where you quote it).

Prints a Markdown table: per workload, aio's ns/op, each peer's ns/op and the
ratio peer/aio (how many times faster aio is), and whether aio meets the goal
of DESIGN.md. memory_tasks gets a second row with bytes per task (the ratio is
then how many times less memory aio needs). Workloads that report ops_per_s
(tcp_echo, http_hello) are compared by ops/s, ratio aio/peer; tcp_echo's goal
is relative (aio's round trips per second at least 1.5 times uvloop's).
A peer's cells are blank in the rows of workloads it has no line for (c_epoll,
the hand-written C reference, has tcp_echo only).

    table.py --syscalls NAME=FILE [--syscalls NAME=FILE] --ops N

reads `strace -c -f -o FILE` summaries instead, and prints a table of system
calls per op (N ops in the traced run; bench/run --syscalls).
"""

import argparse
import json
import sys

# DESIGN.md's goals on the 2-core machine, for aio: (metric, limit, text), where
# the metric must stay below the limit; or (metric, (peer, factor), text), where
# aio's value must be at least `factor` times the peer's (ops_per_s).
GOALS = {
    "spawn_gather": ("ns_per_op", 50, "< 50 ns"),
    "await_chain": ("ns_per_op", 5, "< 5 ns"),
    "sleep_timers": ("ns_per_op", 100, "< 100 ns"),
    "queue_pingpong": ("ns_per_op", 20, "< 20 ns"),
    "semaphore": ("ns_per_op", 100, "< 100 ns"),
    "cancel": ("ns_per_op", 1000, "< 1 us"),
    "memory_tasks": ("bytes_per_task", 200, "< 200 B"),
    "tcp_echo": ("ops_per_s", ("uvloop", 1.5), ">= 1.5x uvloop"),
}
ORDER = ["spawn_gather", "spawn_gather_debug", "await_chain", "sleep_timers", "queue_pingpong", "semaphore", "cancel",
         "memory_tasks", "tcp_echo", "http_hello"]


def load(paths):
    """{workload: [line, ...]} from files of JSON lines (other lines are ignored)."""
    out = {}
    for path in paths:
        with open(path) as f:
            for raw in f:
                raw = raw.strip()
                if not raw.startswith("{"):
                    continue
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if "workload" in line:
                    out.setdefault(line["workload"], []).append(line)
    return out


def best(lines, metric):
    """The best value of `metric` over the runs with the first run's n
    (highest ops/s, else lowest)."""
    if not lines:
        return None
    values = [line[metric] for line in lines if metric in line and line.get("n") == lines[0].get("n")]
    if not values:
        return None
    return max(values) if metric == "ops_per_s" else min(values)


def fmt(v):
    if v is None:
        return "—"
    if v >= 100:
        return "{:,.0f}".format(v)
    if v >= 10:
        return "{:.1f}".format(v)
    return "{:.2f}".format(v)


def ratio(num, den):
    if num is None or den is None or den <= 0 or num <= 0:
        return "—"
    r = num / den
    return "{:.1f}x".format(r) if r >= 10 else "{:.2f}x".format(r)


def goal_cell(name, value, metric, peer_values):
    """`peer_values`: {peer name: its value of `metric`}, for relative goals."""
    g = GOALS.get(name)
    if g is None or g[0] != metric:
        return ""
    if value is None:
        return g[2]
    if isinstance(g[1], tuple):
        peer, factor = g[1]
        pv = peer_values.get(peer)
        if pv is None or pv <= 0:
            return g[2] + " (no {} line)".format(peer)
        return "{}: {} ({:.2f}x)".format(g[2], "met" if value >= factor * pv else "**missed**", value / pv)
    return "{}: {}".format(g[2], "met" if value < g[1] else "**missed**")


def parse_strace(path):
    """{syscall: calls} from an `strace -c` summary."""
    calls = {}
    with open(path) as f:
        for raw in f:
            parts = raw.split()
            # % time, seconds, usecs/call, calls, [errors,] syscall
            if len(parts) in (5, 6) and parts[-1] != "total" and parts[3].isdigit():
                calls[parts[-1]] = calls.get(parts[-1], 0) + int(parts[3])
    return calls


def syscall_table(specs, ops):
    """Markdown table of system calls per op, one column per traced program."""
    runs = []
    for spec in specs:
        name, _, path = spec.partition("=")
        runs.append((name, parse_strace(path)))
    totals = {}
    for _, calls in runs:
        for sc, c in calls.items():
            totals[sc] = totals.get(sc, 0) + c
    # The calls that matter per op; the rest (start-up, connecting) are summed.
    shown = [sc for sc in sorted(totals, key=lambda k: -totals[k])
             if any(calls.get(sc, 0) / ops >= 0.01 for _, calls in runs)]
    header = ["syscall per op"] + [name for name, _ in runs]
    rows = []
    for sc in shown:
        rows.append([sc] + ["{:.3f}".format(calls.get(sc, 0) / ops) for _, calls in runs])
    rows.append(["others (start-up, connect, close)"] +
                ["{:.3f}".format(sum(c for k, c in calls.items() if k not in shown) / ops) for _, calls in runs])
    rows.append(["**total**"] + ["**{:.2f}**".format(sum(calls.values()) / ops) for _, calls in runs])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))) + " |")
    print("|" + "|".join(":" + "-" * (w + 1) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--aio", action="append", help="aio_bench's output (repeatable)")
    p.add_argument("--peer", action="append", default=[], metavar="NAME=FILE", help="a peer's output")
    p.add_argument("--syscalls", action="append", default=[], metavar="NAME=FILE",
                   help="an strace -c -f summary (then --ops is needed, and --aio is not)")
    p.add_argument("--ops", type=int, help="ops in the traced runs (for --syscalls)")
    args = p.parse_args()
    if args.syscalls:
        if not args.ops or args.ops <= 0:
            p.error("--syscalls needs --ops N")
        return syscall_table(args.syscalls, args.ops)
    if not args.aio:
        p.error("--aio FILE is required")

    aio = load(args.aio)
    peer_files = {}
    for spec in args.peer:
        name, _, path = spec.partition("=")
        peer_files.setdefault(name, []).append(path)
    peers = [(name, load(paths)) for name, paths in peer_files.items()]

    header = ["workload", "n", "aio"]
    for name, _ in peers:
        header += [name, "{}/aio".format(name)]
    header.append("goal (aio)")

    rows = []
    names = [w for w in ORDER if w in aio or any(w in d for _, d in peers)]
    names += sorted({w for d in [aio] + [d for _, d in peers] for w in d} - set(names))
    for w in names:
        a = aio.get(w)
        n = a[0]["n"] if a else None
        by_ops = any("ops_per_s" in line for d in [aio] + [d for _, d in peers] for line in d.get(w) or [])
        metrics = [("ops_per_s", "ops/s")] if by_ops else [("ns_per_op", "ns/op")]
        if w == "memory_tasks":
            metrics.append(("bytes_per_task", "bytes/task"))
        for metric, unit in metrics:
            av = best(a, metric)
            row = ["{} ({})".format(w, unit), str(n) if n is not None else "—", fmt(av)]
            peer_values = {}
            for peer_name, d in peers:
                lines = d.get(w)
                if not lines:
                    row += ["", ""]
                    continue
                pv = best(lines, metric)
                peer_values[peer_name] = pv
                cell = fmt(pv)
                if lines and n is not None and lines[0].get("n") != n:
                    cell += " (n={})".format(lines[0].get("n"))
                row.append(cell)
                # Higher ops/s is better; lower ns/op and bytes are better.
                row.append(ratio(av, pv) if metric == "ops_per_s" else ratio(pv, av))
            row.append(goal_cell(w, av, metric, peer_values))
            rows.append(row)

    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    right = [False, True, True] + [True] * (2 * len(peers)) + [False]

    def render(cells):
        return "| " + " | ".join(c.rjust(wd) if r else c.ljust(wd)
                                 for c, wd, r in zip(cells, widths, right)) + " |"

    print(render(header))
    print("|" + "|".join((("-" * (wd + 1)) + ":" if r else ":" + "-" * (wd + 1))
                         for wd, r in zip(widths, right)) + "|")
    for r in rows:
        print(render(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
