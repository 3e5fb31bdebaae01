"""redis-py against a running Ermine: pub/sub, transactions with WATCH
retries, Lua through register_script, redis-py's own Lock (its Lua release
and extend scripts), and classic rate-limiter scripts, all unchanged."""
import sys
import threading
import time

import redis
import redis.exceptions
import redis.lock

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
r.flushall()
r.script_flush()


def wait_message(p, timeout=5.0):
    """Next message other than None (get_message polls)."""
    end = time.time() + timeout
    while time.time() < end:
        m = p.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message")


# --- Pub/Sub, RESP2 and RESP3 ---------------------------------------------
for proto in (2, 3):
    c = redis.Redis(host="127.0.0.1", port=port, protocol=proto, decode_responses=True)
    p = c.pubsub()
    p.subscribe("news")
    assert wait_message(p) == {"type": "subscribe", "pattern": None, "channel": "news", "data": 1}
    p.psubscribe("ev.*")
    assert wait_message(p)["type"] == "psubscribe"
    assert r.publish("news", "hello") == 1
    assert r.publish("ev.one", "x") == 1
    assert r.publish("nobody", "x") == 0
    m = wait_message(p)
    assert m == {"type": "message", "pattern": None, "channel": "news", "data": "hello"}, m
    m = wait_message(p)
    assert m == {"type": "pmessage", "pattern": "ev.*", "channel": "ev.one", "data": "x"}, m
    assert r.pubsub_numsub("news") == [("news", 1)]
    assert r.pubsub_numpat() == 1
    # The subscribed connection still answers PING (in RESP2 as the
    # ["pong", ""] message; in RESP3 it is a plain +PONG).
    if proto == 2:
        p.ping()
        m = wait_message(p)
        assert m["type"] == "pong", m
    # A message handler run by redis-py's worker thread.
    got = []
    worker_ps = c.pubsub(ignore_subscribe_messages=True)
    worker_ps.subscribe(**{"jobs": lambda msg: got.append(msg["data"])})
    th = worker_ps.run_in_thread(sleep_time=0.01)
    deadline = time.time() + 5
    while r.pubsub_numsub("jobs")[0][1] == 0 and time.time() < deadline:
        time.sleep(0.01)
    for i in range(5):
        r.publish("jobs", f"job{i}")
    while len(got) < 5 and time.time() < deadline:
        time.sleep(0.01)
    th.stop()
    th.join(timeout=5)
    assert got == [f"job{i}" for i in range(5)], got
    worker_ps.close()
    p.close()
    c.close()
assert r.pubsub_numpat() == 0

# --- Transactions ---------------------------------------------------------
with r.pipeline() as pipe:
    pipe.set("tx:a", 1).incr("tx:a").get("tx:a")
    assert pipe.execute() == [True, 2, "2"]

# A queued-time error aborts EXEC: redis-py raises ExecAbortError.
with r.pipeline() as pipe:
    pipe.set("tx:b", 1)
    pipe.execute_command("SET", "tx:b")  # wrong arity, refused when queued
    try:
        pipe.execute()
        raise AssertionError("EXECABORT expected")
    except redis.exceptions.ExecAbortError:
        pass
    except redis.exceptions.ResponseError as e:
        assert "wrong number of arguments" in str(e), e
assert r.get("tx:b") is None

# A runtime error is reported in place, the rest still runs.
with r.pipeline() as pipe:
    pipe.set("tx:c", "x").incr("tx:c").set("tx:d", 1)
    res = pipe.execute(raise_on_error=False)
    assert res[0] is True and isinstance(res[1], redis.exceptions.ResponseError) and res[2] is True

# The WATCH retry loop: another client changes the key between WATCH and
# EXEC, so the first attempt fails with WatchError and the retry succeeds.
r.set("balance", 100)
other = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
attempts = 0
with r.pipeline() as pipe:
    while True:
        try:
            pipe.watch("balance")
            bal = int(pipe.get("balance"))
            attempts += 1
            if attempts == 1:
                other.incrby("balance", 50)
            pipe.multi()
            pipe.set("balance", bal - 30)
            pipe.execute()
            break
        except redis.WatchError:
            continue
assert attempts == 2, attempts
assert r.get("balance") == "120"


# r.transaction() runs the same loop for a function.
def double(pipe):
    v = int(pipe.get("balance"))
    pipe.multi()
    pipe.set("balance", v * 2)


assert r.transaction(double, "balance") == [True]
assert r.get("balance") == "240"

# --- register_script --------------------------------------------------------
mul = r.register_script("return tonumber(redis.call('get', KEYS[1]) or 0) * tonumber(ARGV[1])")
r.set("n", 7)
assert mul(keys=["n"], args=[6]) == 42
r.script_flush()  # NOSCRIPT next: redis-py falls back to loading it again
assert mul(keys=["n"], args=[3]) == 21
assert r.script_exists(mul.sha) == [True]
with r.pipeline() as pipe:
    mul(keys=["n"], args=[2], client=pipe)
    pipe.get("n")
    r.script_flush()
    assert pipe.execute() == [14, "7"]

# --- redis-py's Lock: its Lua release / extend / reacquire scripts -------
lock = r.lock("resource", timeout=10)
assert lock.acquire(blocking=False)
assert not r.lock("resource", timeout=10).acquire(blocking=False)
assert lock.extend(5)
assert 10 < r.ttl("resource") <= 15
assert lock.reacquire()
assert lock.owned()
lock.release()
assert r.get("resource") is None
stale = r.lock("resource", timeout=10)
assert stale.acquire(blocking=False)
r.set("resource", "someone-else")
try:
    stale.release()
    raise AssertionError("LockNotOwnedError expected")
except redis.exceptions.LockNotOwnedError:
    pass
assert r.get("resource") == "someone-else"

# The Redlock release script, as published in the Redis documentation.
UNLOCK = """
if redis.call("get",KEYS[1]) == ARGV[1] then
    return redis.call("del",KEYS[1])
else
    return 0
end
"""
unlock = r.register_script(UNLOCK)
assert r.set("mylock", "token-1", nx=True, px=30000) is True
assert unlock(keys=["mylock"], args=["token-2"]) == 0
assert unlock(keys=["mylock"], args=["token-1"]) == 1
assert r.exists("mylock") == 0

# --- Rate limiters ----------------------------------------------------------
# Fixed window: INCR and set the expiry on the first hit.
FIXED = """
local current = redis.call("incr", KEYS[1])
if current == 1 then
    redis.call("expire", KEYS[1], ARGV[1])
end
if current > tonumber(ARGV[2]) then
    return 0
end
return 1
"""
fixed = r.register_script(FIXED)
allowed = [fixed(keys=["rl:fixed:user1"], args=[60, 5]) for _ in range(8)]
assert allowed == [1, 1, 1, 1, 1, 0, 0, 0], allowed
assert 0 < r.ttl("rl:fixed:user1") <= 60

# Sliding window log over a sorted set.
SLIDING = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local count = redis.call('ZCARD', key)
if count < limit then
    redis.call('ZADD', key, now, ARGV[4])
    redis.call('PEXPIRE', key, window)
    return {1, limit - count - 1}
end
return {0, 0}
"""
sliding = r.register_script(SLIDING)
now = 1_000_000
res = [sliding(keys=["rl:slide"], args=[now + i, 1000, 3, f"req{i}"]) for i in range(5)]
assert res == [[1, 2], [1, 1], [1, 0], [0, 0], [0, 0]], res
# Past the window the oldest requests fall out.
assert sliding(keys=["rl:slide"], args=[now + 1001, 1000, 3, "late"]) == [1, 1]

# Token bucket (GCRA-like refill), floats through tostring as client
# libraries do.
BUCKET = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * rate)
local allowed = tokens >= requested
if allowed then tokens = tokens - requested end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', key, math.ceil(capacity / rate) * 2)
return { allowed and 1 or 0, tostring(tokens) }
"""
bucket = r.register_script(BUCKET)
out = [bucket(keys=["rl:bucket"], args=[0.5, 2, 100, 1]) for _ in range(3)]
assert out == [[1, "1"], [1, "0"], [0, "0"]], out
assert bucket(keys=["rl:bucket"], args=[0.5, 2, 103, 1]) == [1, "0.5"]
assert r.hget("rl:bucket", "tokens") == "0.5"

# Concurrent clients through the limiter: exactly the limit gets through.
r.delete("rl:fixed:shared")
passed = []


def worker():
    c = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
    s = c.register_script(FIXED)
    n = sum(s(keys=["rl:fixed:shared"], args=[60, 50]) for _ in range(25))
    passed.append(n)
    c.close()


threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert sum(passed) == 50, passed
assert r.get("rl:fixed:shared") == "100"

print("redis-py scripting: ok")
