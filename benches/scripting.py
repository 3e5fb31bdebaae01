#!/usr/bin/env python3
"""Pub/sub, scripting and transaction throughput: Ermine vs Redis 7.0.15.

Workloads: PUBLISH to 1 and to 100 subscribers, EVALSHA of a small script
(INCR of KEYS[1]) and EVALSHA_SETGET (SET KEYS[1] ARGV[1], then GET it),
both by redis-benchmark, and MULTI + 10 SET + EXEC (a pipelined RESP driver in
this file). Servers are pinned to CPU 0, load and subscribers to CPU 1;
rounds alternate the order. Prints medians of ops/s and of server CPU per
operation, with ratios (ermine / redis; ops ratio >= 1 and CPU ratio <= 1
mean Ermine is at least as fast). Ratios are what to compare: the machine
is shared and noisy.

    benches/scripting.py [--ermine target/release/ermine-server] [--rounds 3]
                         [--requests 200000] [--only PUBLISH_1,EVALSHA]
                         [--pipeline 1,16]

--pipeline runs the redis-benchmark workloads at each depth given, one row
each (EVALSHA_P16...); MULTI_EXEC pipelines on its own.
"""
import argparse
import multiprocessing
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import cli, cpu_ticks, free_port, start  # noqa: E402

SCRIPTS = {
    "EVALSHA": "return redis.call('incr', KEYS[1])",
    "EVALSHA_SETGET": "redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])",
}


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def subscribers(port, n, ready, stop):
    """n subscribed connections on CPU 1 that read and drop everything."""
    os.sched_setaffinity(0, {1})
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(resp("SUBSCRIBE", "bench"))
        s.recv(256)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    ready.set()
    buf = bytearray(1 << 16)
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.1):
            try:
                key.fileobj.recv_into(buf)
            except BlockingIOError:
                pass
    for s in socks:
        s.close()


def benchmark(port, args, n, pipeline=1):
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-c", "50",
                          "-n", str(n), "-P", str(pipeline), "-r", "100000", "--csv", *args],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        cols = [c.strip('"') for c in line.split(",")]
        if len(cols) > 1 and cols[0] != "test":
            try:
                return float(cols[1])
            except ValueError:
                pass
    return 0.0


TX_REPLY = len(b"+OK\r\n" + b"+QUEUED\r\n" * 10 + b"*10\r\n" + b"+OK\r\n" * 10)


def tx_worker(port, count, batch, wid):
    os.sched_setaffinity(0, {1})
    tx = [resp("MULTI")]
    for i in range(10):
        tx.append(resp("SET", f"tx:{wid}:{i}", "v" * 16))
    tx.append(resp("EXEC"))
    payload = b"".join(tx) * batch
    want = TX_REPLY * batch
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        done = 0
        while done < count:
            c.sendall(payload)
            got = 0
            while got < want:
                chunk = c.recv(1 << 16)
                if not chunk:
                    raise SystemExit("connection closed")
                got += len(chunk)
            done += batch


def multi_exec(port, n, conns=8, batch=8):
    """Transactions per second over `conns` pipelining connections."""
    per = max(batch, n // conns)
    procs = [multiprocessing.Process(target=tx_worker, args=(port, per, batch, w)) for w in range(conns)]
    t0 = time.time()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return per * conns / (time.time() - t0)


def run(name, port, pid, n, pipeline=1):
    """One measurement: (ops/s, server CPU microseconds per op)."""
    cli(port, "FLUSHALL")
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    sub = None
    if name.startswith("PUBLISH_"):
        nsubs = int(name.split("_")[1])
        ready = ctx.Event()
        sub = ctx.Process(target=subscribers, args=(port, nsubs, ready, stop))
        sub.start()
        ready.wait(30)
    if name in SCRIPTS:
        sha = subprocess.run(["redis-cli", "-p", str(port), "SCRIPT", "LOAD", SCRIPTS[name]],
                             capture_output=True, text=True).stdout.strip()
    t0 = cpu_ticks(pid)
    if name.startswith("PUBLISH_"):
        ops = benchmark(port, ["PUBLISH", "bench", "message-0123456789"], n, pipeline)
        left = subprocess.run(["redis-cli", "-p", str(port), "PUBSUB", "NUMSUB", "bench"],
                              capture_output=True, text=True).stdout.split()
        if left[-1] != str(nsubs):
            print(f"  warning: {name} on port {port}: {left[-1]} of {nsubs} subscribers left", flush=True)
    elif name in SCRIPTS:
        argv = ["EVALSHA", sha, "1", "counter:__rand_int__"]
        if name == "EVALSHA_SETGET":
            argv.append("value-0123456789")
        ops = benchmark(port, argv, n, pipeline)
    else:
        ops = multi_exec(port, n // 4)
        n = n // 4
    t1 = cpu_ticks(pid)
    if sub:
        stop.set()
        sub.join()
    hz = os.sysconf("SC_CLK_TCK")
    return ops, (t1 - t0) / hz * 1e6 / n


WORKLOADS = ["PUBLISH_1", "PUBLISH_100", "EVALSHA", "EVALSHA_SETGET", "MULTI_EXEC_10SET"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ermine", default="target/release/ermine-server")
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--only", default="")
    ap.add_argument("--pipeline", default="1")
    a = ap.parse_args()
    only = set(x.strip().upper() for x in a.only.split(",") if x.strip())
    tmp = tempfile.mkdtemp(prefix="ermine-bench-")
    servers = {}
    try:
        for name, cmd in (("redis", [a.redis]), ("ermine", [os.path.abspath(a.ermine)])):
            port = free_port()
            servers[name] = (start(cmd, port, tmp), port)
        print(f"{'workload':<20}{'redis ops/s':>12}{'ermine ops/s':>14}{'ratio':>7}"
              f"{'redis us/op':>13}{'ermine us/op':>14}{'cpu ratio':>11}", flush=True)
        depths = [int(x) for x in a.pipeline.split(",") if x.strip()]
        rows = [(w, d) for w in WORKLOADS for d in (depths if w != "MULTI_EXEC_10SET" else [1])]
        for w, depth in rows:
            if only and w not in only:
                continue
            res = {"redis": [], "ermine": []}
            for r in range(a.rounds):
                for s in (["redis", "ermine"] if r % 2 == 0 else ["ermine", "redis"]):
                    p, port = servers[s]
                    res[s].append(run(w, port, p.pid, a.requests, depth))
            label = w if depth == 1 else f"{w}_P{depth}"
            med = {s: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
                   for s, v in res.items()}
            ratio = med["ermine"][0] / med["redis"][0] if med["redis"][0] else 0
            cpu = med["ermine"][1] / med["redis"][1] if med["redis"][1] else 0
            print(f"{label:<20}{med['redis'][0]:>12.0f}{med['ermine'][0]:>14.0f}{ratio:>7.2f}"
                  f"{med['redis'][1]:>13.2f}{med['ermine'][1]:>14.2f}{cpu:>11.2f}", flush=True)
    finally:
        for p, _ in servers.values():
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
