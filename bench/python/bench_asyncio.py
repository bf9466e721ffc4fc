#!/usr/bin/env python3
"""The workloads of shared/bench/WORKLOADS.md for Python's asyncio (or uvloop).

The twin of bench/aio_bench.cpp: the same workloads, flags, protocol and output
lines, so that bench/run can print them side by side.

    python3 bench/python/bench_asyncio.py [--loop asyncio|uvloop] [--only NAME] [--n N] [--scale F]

Protocol (as in aio_bench):
- Each repetition runs the workload coroutine on a fresh event loop; the
  coroutine times only its own region with time.perf_counter(), so starting and
  closing the loop are not measured.
- One warm-up repetition, then 3 measured ones; the best (lowest) is printed.
- When several workloads are selected, each runs in a child process of its own
  (this script re-runs itself with --only NAME), so that each line's peak_rss_kb
  (getrusage's ru_maxrss, a process-wide peak) belongs to that workload alone.
- memory_tasks takes bytes_per_task from its first repetition (the warm-up),
  the only one that starts below the process's peak.
- Python is slow: memory_tasks defaults to a smaller N here (PY_DEFAULT_N); the
  line always prints the n actually used, and says so in "note".
- tcp_echo also prints ops_per_s (round trips per second); its N is rounded to
  a multiple of its 50 connections (at least 50), as in aio_bench.

Adding a workload: write `async def NAME(n) -> Sample` and add it to WORKLOADS.
"""

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time


class Sample:
    __slots__ = ("seconds", "bytes_per_task")

    def __init__(self, seconds, bytes_per_task=None):
        self.seconds = seconds
        self.bytes_per_task = bytes_per_task


def check(ok, what):
    if not ok:
        raise RuntimeError("check failed: " + what)


def current_rss_kb():
    """Resident set size now, in KiB (/proc/self/statm, second field, in pages)."""
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1])
    return resident * (os.sysconf("SC_PAGESIZE") // 1024)


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- spawn_gather --------------------------------------------------------

async def identity(i):
    return i


async def spawn_gather(n):
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(identity(i)) for i in range(n)]
    results = await asyncio.gather(*tasks)
    t1 = time.perf_counter()
    check(len(results) == n and sum(results) == n * (n - 1) // 2, "spawn_gather: sum of results")
    return Sample(t1 - t0)


# --- spawn_gather_debug (not in WORKLOADS.md) ----------------------------
# spawn_gather with the loop in debug mode (loop.set_debug(True)).

async def spawn_gather_debug(n):
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    try:
        return await spawn_gather(n)
    finally:
        loop.set_debug(False)


# --- await_chain ---------------------------------------------------------

async def child(i):
    return i


async def await_chain(n):
    t0 = time.perf_counter()
    total = 0
    for i in range(n):
        total += await child(i)
    t1 = time.perf_counter()
    check(total == n * (n - 1) // 2, "await_chain: sum")
    return Sample(t1 - t0)


# --- sleep_timers --------------------------------------------------------

async def timed_sleeper(i):
    await asyncio.sleep((i % 1000) * 10e-6)


async def sleep_timers(n):
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(timed_sleeper(i)) for i in range(n)]
    done = await asyncio.gather(*tasks)
    t1 = time.perf_counter()
    check(len(done) == n, "sleep_timers: every task finished")
    return Sample(t1 - t0)


# --- queue_pingpong ------------------------------------------------------

async def queue_producer(q, n):
    for i in range(n):
        await q.put(i)


async def queue_consumer(q, n):
    total = 0
    out_of_order = 0
    for i in range(n):
        v = await q.get()
        if v != i:
            out_of_order += 1
        total += v
    return total if out_of_order == 0 else -1


async def queue_pingpong(n):
    q = asyncio.Queue(maxsize=1024)
    t0 = time.perf_counter()
    producing = asyncio.create_task(queue_producer(q, n))
    consuming = asyncio.create_task(queue_consumer(q, n))
    _, total = await asyncio.gather(producing, consuming)
    t1 = time.perf_counter()
    check(total == n * (n - 1) // 2, "queue_pingpong: order and sum of the items")
    check(q.empty(), "queue_pingpong: the queue is empty")
    return Sample(t1 - t0)


# --- semaphore -----------------------------------------------------------

async def permit_holder(sem):
    async with sem:
        await asyncio.sleep(0)


async def semaphore(n):
    sem = asyncio.Semaphore(16)
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(permit_holder(sem)) for _ in range(n)]
    done = await asyncio.gather(*tasks)
    t1 = time.perf_counter()
    check(len(done) == n and sem._value == 16, "semaphore: every task ran, every permit is back")
    return Sample(t1 - t0)


# --- tcp_echo ------------------------------------------------------------
# As in aio_bench: the 50 connections are opened first (not measured); each
# client then does N/50 round trips (write 64 bytes, readexactly(64), compare).
# The server echoes what read() returns. drain() is awaited only when the
# transport could not send everything at once (as aio_bench does), which
# spares Python a coroutine call per write.

ECHO_CONNECTIONS = 50
ECHO_MESSAGE_SIZE = 64


async def echo_handler(reader, writer):
    transport = writer.transport
    while True:
        data = await reader.read(64 * 1024)
        if not data:
            break
        writer.write(data)
        if transport.get_write_buffer_size() > 0:
            await writer.drain()
    writer.close()


async def echo_client(reader, writer, trips):
    message = b"x" * ECHO_MESSAGE_SIZE
    transport = writer.transport
    mismatches = 0
    for _ in range(trips):
        writer.write(message)
        if transport.get_write_buffer_size() > 0:
            await writer.drain()
        reply = await reader.readexactly(ECHO_MESSAGE_SIZE)
        if reply != message:
            mismatches += 1
    return mismatches


async def tcp_echo(n):
    server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(ECHO_CONNECTIONS)]
    trips = n // ECHO_CONNECTIONS

    t0 = time.perf_counter()
    clients = [asyncio.create_task(echo_client(r, w, trips)) for r, w in connections]
    mismatches = await asyncio.gather(*clients)
    t1 = time.perf_counter()

    check(sum(mismatches) == 0, "tcp_echo: every reply equals its message")
    for _, w in connections:
        w.close()
        await w.wait_closed()
    server.close()
    await server.wait_closed()
    return Sample(t1 - t0)


# --- cancel --------------------------------------------------------------

async def long_sleeper(seconds):
    await asyncio.sleep(seconds)


async def cancel(n):
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(long_sleeper(10)) for _ in range(n)]
    # The tasks start at the next iteration, before we resume: after this every
    # one of them is asleep (the second yield is a margin).
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    t1 = time.perf_counter()
    cancelled = sum(1 for o in outcomes if isinstance(o, asyncio.CancelledError))
    check(len(outcomes) == n and cancelled == n, "cancel: every task was cancelled")
    return Sample(t1 - t0)


# --- memory_tasks --------------------------------------------------------
# Waiting for the cancelled tasks is done by yielding rather than with gather,
# so that gather's own bookkeeping does not count against the tasks (as in
# aio_bench).

async def memory_tasks(n):
    rss_before = current_rss_kb()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(long_sleeper(1)) for _ in range(n)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()
    cancelled = 0
    for t in tasks:
        while not t.done():
            await asyncio.sleep(0)
        if t.cancelled():
            cancelled += 1
    t1 = time.perf_counter()
    peak = peak_rss_kb()
    check(cancelled == n, "memory_tasks: every task was cancelled")
    return Sample(t1 - t0, (peak - rss_before) * 1024.0 / n)


# --- the table of workloads ----------------------------------------------

class Workload:
    def __init__(self, name, default_n, body, fixed_seconds=0.0, measures_memory=False, py_default_n=None,
                 n_multiple=1, reports_ops_per_s=False):
        self.name = name
        self.default_n = default_n          # WORKLOADS.md's N (what aio_bench uses)
        self.py_default_n = py_default_n    # a smaller default for Python, if any
        self.body = body
        self.fixed_seconds = fixed_seconds  # taken off before ns_per_op (sleep_timers: 10 ms)
        self.measures_memory = measures_memory
        self.n_multiple = n_multiple        # N is rounded to a multiple of this (tcp_echo's connections)
        self.reports_ops_per_s = reports_ops_per_s


WORKLOADS = [
    Workload("spawn_gather", 200_000, spawn_gather),
    Workload("spawn_gather_debug", 200_000, spawn_gather_debug),
    Workload("await_chain", 1_000_000, await_chain),
    Workload("sleep_timers", 100_000, sleep_timers, fixed_seconds=0.01),
    Workload("queue_pingpong", 1_000_000, queue_pingpong),
    Workload("semaphore", 200_000, semaphore),
    Workload("cancel", 100_000, cancel),
    Workload("memory_tasks", 1_000_000, memory_tasks, measures_memory=True, py_default_n=200_000),
    Workload("tcp_echo", 100_000, tcp_echo, n_multiple=ECHO_CONNECTIONS, reports_ops_per_s=True),
]
BY_NAME = {w.name: w for w in WORKLOADS}


def n_for(w, args):
    if args.n is not None:
        n = args.n
    else:
        base = w.py_default_n if w.py_default_n is not None else w.default_n
        n = max(1, round(base * args.scale))
    return max(w.n_multiple, n - n % w.n_multiple)


def loop_factory(name):
    if name == "asyncio":
        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:
        sys.exit("bench_asyncio.py: --loop uvloop: the uvloop module is not installed for %s "
                 "(Debian: apt-get install python3-uvloop)" % sys.executable)
    return uvloop.new_event_loop


def run_once(factory, coro):
    """Runs `coro` on a fresh loop from `factory` (asyncio.run with a loop factory)."""
    loop = factory()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def run_in_process(w, n, args):
    factory = loop_factory(args.loop)
    first = run_once(factory, w.body(n))
    best = None
    for _ in range(3):
        s = run_once(factory, w.body(n))
        if best is None or s.seconds < best.seconds:
            best = s
    # Formatted like aio_bench's lines (fixed decimals, same key order).
    fields = [
        ("workload", json.dumps(w.name)),
        ("n", str(n)),
        ("seconds", "%.6f" % best.seconds),
        ("ns_per_op", "%.2f" % ((best.seconds - w.fixed_seconds) * 1e9 / n)),
        ("peak_rss_kb", str(peak_rss_kb())),
    ]
    if w.reports_ops_per_s:
        fields.append(("ops_per_s", "%.0f" % (n / best.seconds)))
    if w.measures_memory:
        fields.append(("bytes_per_task", "%.1f" % first.bytes_per_task))
    if args.n is None and w.py_default_n is not None:
        fields.append(("note", json.dumps("python default n is %d (WORKLOADS.md: %d), times --scale"
                                          % (w.py_default_n, w.default_n))))
    if args.loop != "asyncio":
        fields.append(("loop", json.dumps(args.loop)))
    print("{" + ",".join('"%s":%s' % kv for kv in fields) + "}", flush=True)


def run_in_child(w, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--only", w.name, "--loop", args.loop]
    if args.n is not None:
        cmd += ["--n", str(args.n)]
    if args.scale != 1.0:
        cmd += ["--scale", repr(args.scale)]
    sys.stdout.flush()
    rc = subprocess.call(cmd)
    if rc != 0:
        print("bench_asyncio.py: workload %s failed (status %d)" % (w.name, rc), file=sys.stderr)
    return rc == 0


def positive_int(text):
    v = int(text)
    if v <= 0:
        raise argparse.ArgumentTypeError("needs a positive integer")
    return v


def positive_float(text):
    v = float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError("needs a positive number")
    return v


def main():
    p = argparse.ArgumentParser(description="asyncio twin of aio_bench (see bench/README.md)")
    p.add_argument("--only", choices=[w.name for w in WORKLOADS], help="run one workload (in this process)")
    p.add_argument("--n", type=positive_int, help="N for the selected workloads")
    p.add_argument("--scale", type=positive_float, default=1.0, help="multiply every default N")
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--list", action="store_true", help="print the workloads and their default N")
    args = p.parse_args()

    if args.list:
        for w in WORKLOADS:
            print(w.name, w.py_default_n or w.default_n)
        return 0
    loop_factory(args.loop)  # fail early if uvloop is missing
    if args.only:
        w = BY_NAME[args.only]
        run_in_process(w, n_for(w, args), args)
        return 0
    ok = True
    for w in WORKLOADS:
        ok = run_in_child(w, args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
