#!/usr/bin/env python3
"""Persistence side by side: Ermine vs Redis.

For each dataset: fill both servers (through redis-cli --pipe), BGSAVE
(time until the child is reaped, and the file size), then restart each
on its dump (time until it answers PING, and the "DB loaded from disk"
figure each logs). Then SET throughput with appendonly yes under
appendfsync everysec and always (redis-benchmark, alternating rounds,
servers pinned to CPU 0, the benchmark to CPU 1).

Ratios are ermine / redis: for times and sizes lower is better, for
ops/s higher is better. This is a shared, noisy machine: compare ratios.

    benches/persistence.py [--ermine target/release/ermine-server]
        [--only strings,hashes,zsets,lists,smallhashes,aof]
        [--scale 1.0] [--rounds 3] [--requests 100000] [--port 7520]
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def gen_strings(n):
    for i in range(n):
        yield resp("SET", "key:%d" % i, "value:%d" % i)


def gen_collection(kind, keys, items):
    for k in range(keys):
        key = "%s:%d" % (kind, k)
        batch = 500
        for start in range(0, items, batch):
            args = []
            for i in range(start, min(items, start + batch)):
                if kind == "hash":
                    args += ["field:%d" % i, "value:%d" % i]
                elif kind == "zset":
                    args += [str(i * 1.5), "member:%d" % i]
                else:
                    args.append("item:%d" % i)
            cmd = {"hash": "HSET", "zset": "ZADD", "list": "RPUSH"}[kind]
            yield resp(cmd, key, *args)


def gen_small_hashes(n):
    for i in range(n):
        yield resp("HSET", "h:%d" % i, "a", i, "b", "x", "c", i * 2, "d", "yy", "e", "zzz")


class Srv:
    def __init__(self, name, binary, port, workdir, extra):
        self.name, self.binary, self.port = name, binary, port
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.extra = extra
        self.proc = None

    def start(self, extra=()):
        log = open(os.path.join(self.dir, "log.txt"), "w")
        args = ["taskset", "-c", "0", self.binary, "--port", str(self.port),
                "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
                "--appendonly", "no", "--protected-mode", "no"]
        args += list(self.extra) + list(extra)
        t0 = time.time()
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        while time.time() - t0 < 600:
            try:
                if self.cli("PING").strip() == "PONG":
                    return time.time() - t0
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.01)
        raise RuntimeError("%s did not start" % self.name)

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, check=True).stdout

    def info(self, field):
        m = re.search(r"^%s:(.*)$" % field, self.cli("INFO", "all"), re.M)
        return m.group(1).strip() if m else ""

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def fill(self, gen):
        p = subprocess.Popen(["redis-cli", "-p", str(self.port), "--pipe"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        buf = []
        size = 0
        for cmd in gen:
            buf.append(cmd)
            size += len(cmd)
            if size > 1 << 20:
                p.stdin.write(b"".join(buf))
                buf, size = [], 0
        p.stdin.write(b"".join(buf))
        p.stdin.close()
        p.wait()

    def bgsave(self):
        t0 = time.time()
        self.cli("BGSAVE")
        while True:
            if self.info("rdb_bgsave_in_progress") == "0":
                break
            time.sleep(0.005)
        dt = time.time() - t0
        return dt, os.path.getsize(os.path.join(self.dir, "dump.rdb"))

    def logged_load_secs(self):
        text = open(os.path.join(self.dir, "log.txt")).read()
        m = re.findall(r"DB loaded from disk: ([0-9.]+) seconds", text)
        return float(m[-1]) if m else float("nan")


DATASETS = {
    "strings": ("1,000,000 strings", lambda s: gen_strings(int(1_000_000 * s))),
    "hashes": ("100 hashes x 10,000 fields", lambda s: gen_collection("hash", 100, int(10_000 * s))),
    "zsets": ("100 sorted sets x 10,000", lambda s: gen_collection("zset", 100, int(10_000 * s))),
    "lists": ("100 lists x 10,000 items", lambda s: gen_collection("list", 100, int(10_000 * s))),
    "smallhashes": ("1,000,000 hashes of 5 fields", lambda s: gen_small_hashes(int(1_000_000 * s))),
}


def ratio(a, b):
    return a / b if b else float("nan")


def bench_dataset(key, servers, scale, rounds):
    title, gen = DATASETS[key]
    res = {s.name: {"bgsave": [], "size": 0, "load": [], "logged": []} for s in servers}
    for s in servers:
        s.start()
        s.fill(gen(scale))
        for _ in range(rounds):
            dt, size = s.bgsave()
            res[s.name]["bgsave"].append(dt)
            res[s.name]["size"] = size
        s.stop()
        for _ in range(rounds):
            res[s.name]["load"].append(s.start())
            res[s.name]["logged"].append(s.logged_load_secs())
            s.stop()
        os.remove(os.path.join(s.dir, "dump.rdb"))
    e, r = res["ermine"], res["redis"]
    med = statistics.median
    print("%-30s BGSAVE %6.2fs vs %6.2fs (%.2f)  size %9d vs %9d (%.3f)  load %6.2fs vs %6.2fs (%.2f)" % (
        title, med(e["bgsave"]), med(r["bgsave"]), ratio(med(e["bgsave"]), med(r["bgsave"])),
        e["size"], r["size"], ratio(e["size"], r["size"]),
        med(e["logged"]), med(r["logged"]), ratio(med(e["logged"]), med(r["logged"]))))
    sys.stdout.flush()


def bench_aof(servers, rounds, requests):
    for policy in ("everysec", "always"):
        ops = {s.name: [] for s in servers}
        cpu = {s.name: [] for s in servers}
        for _ in range(rounds):
            for s in servers:
                shutil.rmtree(os.path.join(s.dir, "appendonlydir"), ignore_errors=True)
                s.start(["--appendonly", "yes", "--appendfsync", policy])
                t0 = cpu_ticks(s.proc.pid)
                out = subprocess.run(
                    ["taskset", "-c", "1", "redis-benchmark", "-p", str(s.port), "-t", "set",
                     "-n", str(requests), "-c", "50", "-d", "16", "-r", "100000", "-q"],
                    capture_output=True, text=True).stdout
                ticks = cpu_ticks(s.proc.pid) - t0
                m = re.search(r"([0-9.]+) requests per second", out)
                ops[s.name].append(float(m.group(1)) if m else float("nan"))
                cpu[s.name].append(ticks / requests)
                s.stop()
        med = statistics.median
        e, r = med(ops["ermine"]), med(ops["redis"])
        ce, cr = med(cpu["ermine"]), med(cpu["redis"])
        print("SET appendfsync %-8s %9.0f vs %9.0f ops/s (%.2f)  CPU/req ratio %.2f" % (
            policy, e, r, ratio(e, r), ratio(ce, cr)))
        sys.stdout.flush()


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ermine", default="target/release/ermine-server")
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--only", default="strings,hashes,zsets,lists,smallhashes,aof")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--port", type=int, default=7520)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ermine-persist-bench-")
    servers = [
        Srv("ermine", os.path.abspath(a.ermine), a.port, work, []),
        Srv("redis", shutil.which(a.redis) or a.redis, a.port + 1, work, []),
    ]
    try:
        print("(ermine vs redis, ratio ermine/redis)")
        for key in a.only.split(","):
            if key == "aof":
                bench_aof(servers, a.rounds, a.requests)
            else:
                bench_dataset(key, servers, a.scale, a.rounds)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
