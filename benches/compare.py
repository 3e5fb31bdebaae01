#!/usr/bin/env python3
"""Side-by-side throughput, CPU per request and memory: Ermine vs Redis.

Starts both servers on free loopback ports, pins them to CPU 0 and
redis-benchmark to CPU 1, runs each workload on both in alternating
rounds, and prints medians and ratios (ermine / redis). Ratios are what to
compare: this is a shared, noisy machine.

    benches/compare.py [--ermine target/release/ermine-server] [--rounds 3]
                       [--requests 200000] [--only SET,GET] [--skip-memory]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

WORKLOADS = [
    # name, -t tests, extra args
    ("SET", "set", ["-d", "16"]),
    ("GET", "get", ["-d", "16"]),
    ("INCR", "incr", []),
    ("MSET_10", "mset", ["-d", "16"]),
    ("SET_d1024", "set", ["-d", "1024"]),
    ("GET_d1024", "get", ["-d", "1024"]),
    ("LPUSH", "lpush", []),
    ("RPOP", "rpop", []),
    ("SADD", "sadd", []),
    ("HSET", "hset", []),
    ("ZADD", "zadd", []),
    ("LRANGE_100", "lrange_100", []),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_ping(port, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(cmd, port, tmp):
    log = open(os.path.join(tmp, f"{port}.log"), "w")
    p = subprocess.Popen(cmd + ["--port", str(port), "--save", "", "--appendonly", "no"],
                         stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
                         preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    if not wait_ping(port):
        p.kill()
        sys.exit(f"server {cmd[0]} did not start")
    return p


def used_memory(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "memory"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return 0


def cli(port, *args):
    subprocess.run(["redis-cli", "-p", str(port), *args], stdout=subprocess.DEVNULL, check=False)


def bench(port, pid, tests, extra, pipeline, n):
    cli(port, "FLUSHALL")
    if tests in ("get", "rpop", "lrange_100"):
        # Fill first so reads hit.
        fill = {"get": "set", "rpop": "lpush", "lrange_100": "lpush"}[tests]
        subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-n", str(n), "-P", "16",
                        "-r", "100000", "-t", fill, "-q", *extra], stdout=subprocess.DEVNULL)
    t0 = cpu_ticks(pid)
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-c", "50",
                          "-n", str(n), "-P", str(pipeline), "-r", "100000", "-t", tests,
                          "--csv", *extra], capture_output=True, text=True).stdout
    t1 = cpu_ticks(pid)
    rps = 0.0
    for line in out.splitlines():
        cols = [c.strip('"') for c in line.split(",")]
        if len(cols) > 1 and cols[0] != "test":
            try:
                rps = float(cols[1])
            except ValueError:
                pass
    hz = os.sysconf("SC_CLK_TCK")
    cpu_us_per_req = (t1 - t0) / hz * 1e6 / n
    return rps, cpu_us_per_req


def load_memory(port, phase):
    """Pipelined RESP loader; returns after the server answered everything."""
    def resp(*args):
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)
    cmds = []
    if phase == "strings":
        cmds = (resp("SET", f"key:{i:012d}", f"v{i:015d}") for i in range(1_000_000))
        count = 1_000_000
    elif phase == "hashes":
        cmds = (resp("HSET", f"hash:{h}", f"field:{i:08d}", f"v{i:015d}") for h in range(100) for i in range(10000))
        count = 1_000_000
    elif phase == "smallhashes":
        cmds = (resp("HSET", f"user:{i:012d}", *[x for f in range(5) for x in (f"field{f}", f"v{i:015d}")])
                for i in range(1_000_000))
        count = 1_000_000
    elif phase == "zsets":
        cmds = (resp("ZADD", f"zset:{h}", i, f"member:{i:08d}") for h in range(100) for i in range(10000))
        count = 1_000_000
    else:
        cmds = (resp("RPUSH", f"list:{h}", f"item:{i:011d}") for h in range(100) for i in range(10000))
        count = 1_000_000
    with socket.create_connection(("127.0.0.1", port)) as c:
        buf = []
        size = 0
        for cmd in cmds:
            buf.append(cmd)
            size += len(cmd)
            if size > 1 << 20:
                c.sendall(b"".join(buf))
                buf, size = [], 0
        c.sendall(b"".join(buf))
        # Each reply is one line (+OK / :1).
        got = 0
        prev = b""
        while got < count:
            chunk = c.recv(1 << 20)
            if not chunk:
                break
            # Count line ends, including one split across two reads.
            got += (prev + chunk).count(b"\r\n") - prev.count(b"\r\n")
            prev = chunk[-1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ermine", default="target/release/ermine-server")
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--only", default="")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--phases", default="", help="memory phases to run (default: all)")
    ap.add_argument("--base-port", type=int, default=0,
                    help="use this port for Redis and the next for Ermine (default: any free ports)")
    a = ap.parse_args()
    only = set(x.strip().upper() for x in a.only.split(",") if x.strip())
    tmp = tempfile.mkdtemp(prefix="ermine-bench-")
    servers = {}
    try:
        for i, (name, cmd) in enumerate((("redis", [a.redis]), ("ermine", [os.path.abspath(a.ermine)]))):
            port = a.base_port + i if a.base_port else free_port()
            servers[name] = (start(cmd, port, tmp), port)
        if not a.skip_throughput:
            print(f"{'workload':<14}{'P':>3}{'redis ops/s':>14}{'ermine ops/s':>14}{'ratio':>8}"
                  f"{'redis us/req':>14}{'ermine us/req':>15}{'cpu ratio':>10}")
            for wname, tests, extra in WORKLOADS:
                if only and wname not in only:
                    continue
                for pipeline in (1, 16):
                    res = {"redis": [], "ermine": []}
                    n = a.requests if pipeline == 1 else a.requests * 4
                    for r in range(a.rounds):
                        order = ["redis", "ermine"] if r % 2 == 0 else ["ermine", "redis"]
                        for s in order:
                            p, port = servers[s]
                            res[s].append(bench(port, p.pid, tests, extra, pipeline, n))
                    med = {s: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for s, v in res.items()}
                    ratio = med["ermine"][0] / med["redis"][0] if med["redis"][0] else 0
                    cpu = med["ermine"][1] / med["redis"][1] if med["redis"][1] else 0
                    print(f"{wname:<14}{pipeline:>3}{med['redis'][0]:>14.0f}{med['ermine'][0]:>14.0f}{ratio:>8.2f}"
                          f"{med['redis'][1]:>14.3f}{med['ermine'][1]:>15.3f}{cpu:>10.2f}", flush=True)
        if not a.skip_memory:
            print(f"\n{'memory phase':<22}{'redis RSS MB':>14}{'ermine RSS MB':>15}{'ratio':>8}"
                  f"{'redis used MB':>15}{'ermine used MB':>16}{'ratio':>8}")
            for phase, label in (("strings", "1M strings"), ("hashes", "100 hashes x 10k"), ("smallhashes", "1M hashes x 5 fields"), ("zsets", "100 zsets x 10k"), ("lists", "100 lists x 10k")):
                if a.phases and phase not in a.phases.split(","):
                    continue
                rss, used = {}, {}
                for s in ("redis", "ermine"):
                    p, port = servers[s]
                    cli(port, "FLUSHALL")
                    p.terminate()
                    p.wait()
                    cmd = [a.redis] if s == "redis" else [os.path.abspath(a.ermine)]
                    servers[s] = (start(cmd, port, tmp), port)
                    p, port = servers[s]
                    base, ubase = rss_kb(p.pid), used_memory(port)
                    load_memory(port, phase)
                    time.sleep(0.5)
                    rss[s] = (rss_kb(p.pid) - base) / 1024
                    used[s] = (used_memory(port) - ubase) / (1 << 20)
                print(f"{label:<22}{rss['redis']:>14.1f}{rss['ermine']:>15.1f}{rss['ermine'] / max(rss['redis'], 0.001):>8.2f}"
                      f"{used['redis']:>15.1f}{used['ermine']:>16.1f}{used['ermine'] / max(used['redis'], 0.001):>8.2f}",
                      flush=True)
    finally:
        for p, _ in servers.values():
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
