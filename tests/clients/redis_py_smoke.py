"""redis-py against a running Ermine: the calls applications make most."""
import sys

import redis

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)

assert r.ping() is True
assert r.set("greeting", "hello") is True
assert r.get("greeting") == "hello"
assert r.incr("counter") == 1
assert r.incrby("counter", 10) == 11
assert r.mset({"a": "1", "b": "2"}) is True
assert r.mget("a", "b", "missing") == ["1", "2", None]
assert r.exists("a", "b", "missing") == 2
assert r.expire("a", 100) is True
assert 0 < r.ttl("a") <= 100
assert r.delete("a", "b") == 2

pipe = r.pipeline(transaction=False)
for i in range(100):
    pipe.set(f"k{i}", i)
pipe.get("k42")
res = pipe.execute()
assert res[-1] == "42", res[-1]
assert r.dbsize() >= 100

info = r.info()
assert info["redis_version"].startswith("7.0"), info["redis_version"]

# RESP3 handshake (HELLO 3) as newer clients do.
r3 = redis.Redis(host="127.0.0.1", port=port, protocol=3, decode_responses=True)
assert r3.ping() is True
assert r3.get("greeting") == "hello"
print("redis-py smoke: ok")
