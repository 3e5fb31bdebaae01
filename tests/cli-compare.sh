#!/usr/bin/env bash
# Differential check: run the same invocations through redis-cli and
# ermine-cli against a real redis-server and compare stdout, stderr and
# the exit status byte for byte.
#
# Usage: tests/cli-compare.sh [port]   (needs redis-server and redis-cli)
# Env:   ERMINE_CLI=path (default target/debug/ermine-cli)
set -u
PORT=${1:-7471}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ECLI=${ERMINE_CLI:-$ROOT/target/debug/ermine-cli}
RCLI=$(command -v redis-cli) || { echo "redis-cli not installed: skipping"; exit 0; }
command -v redis-server >/dev/null || { echo "redis-server not installed: skipping"; exit 0; }
[ -x "$ECLI" ] || (cd "$ROOT" && cargo build --quiet) || exit 1

TMP=$(mktemp -d)
STARTED=0
if ! "$RCLI" -p "$PORT" ping >/dev/null 2>&1; then
    redis-server --port "$PORT" --save '' --appendonly no --daemonize yes \
        --pidfile "$TMP/redis.pid" --dir "$TMP" >/dev/null
    for _ in $(seq 50); do "$RCLI" -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    STARTED=1
fi
cleanup() {
    [ $STARTED = 1 ] && kill "$(cat "$TMP/redis.pid")" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

pass=0; fail=0
# run NAME STDIN ARGS...   (STDIN: literal text fed on stdin, "-" for none)
run() {
    local name=$1 input=$2; shift 2
    local i
    for i in r e; do
        local cli=$RCLI; [ $i = e ] && cli=$ECLI
        "$RCLI" -p "$PORT" flushall >/dev/null
        "$RCLI" -p "$PORT" rpush list a b c >/dev/null
        "$RCLI" -p "$PORT" set str "hello world" >/dev/null
        "$RCLI" -p "$PORT" hset hash f1 v1 f2 v2 >/dev/null
        "$RCLI" -p "$PORT" sadd set m1 >/dev/null
        "$RCLI" -p "$PORT" zadd zset 1.5 z >/dev/null
        if [ "$input" = "-" ]; then
            (cd "$TMP" && "$cli" "$@" </dev/null >"$TMP/$i.out" 2>"$TMP/$i.err"); echo $? >"$TMP/$i.rc"
        else
            (cd "$TMP" && printf '%b' "$input" | "$cli" "$@" >"$TMP/$i.out" 2>"$TMP/$i.err"); echo $? >"$TMP/$i.rc"
        fi
        # Version strings may carry a build suffix.
        sed -i -E 's/^redis-cli 7\.0\.15( \([^)]*\))?$/redis-cli 7.0.15/' "$TMP/$i.out"
        sed -i -E 's/^redis-cli 7\.0\.15( \([^)]*\))?$/redis-cli 7.0.15/' "$TMP/$i.err"
        # Key order of SCAN depends on the server's rehashing progress.
        [ -n "${SORT:-}" ] && sort -o "$TMP/$i.out" "$TMP/$i.out"
        # Timings, ids and ports vary between runs.
        [ -n "${MASK:-}" ] && sed -i 's/[0-9]/0/g' "$TMP/$i.out"
    done
    if cmp -s "$TMP/r.out" "$TMP/e.out" && cmp -s "$TMP/r.err" "$TMP/e.err" && cmp -s "$TMP/r.rc" "$TMP/e.rc"; then
        pass=$((pass+1))
    else
        fail=$((fail+1))
        echo "FAIL: $name: $*"
        for f in out err rc; do
            cmp -s "$TMP/r.$f" "$TMP/e.$f" || { echo "  --- $f (redis-cli vs ermine-cli)"; diff <(od -c "$TMP/r.$f") <(od -c "$TMP/e.$f") | head -20; }
        done
    fi
}

P="-p $PORT"
# One-shot, raw (stdout is not a tty) and human (FAKETTY) forms.
for mode in "" "--no-raw" "--csv" "--json" "--quoted-json" "-3" "-3 --no-raw" "-3 --csv" "-2 --json"; do
    run "ping $mode" - $P $mode ping
    run "get $mode" - $P $mode get str
    run "nil $mode" - $P $mode get nokey
    run "int $mode" - $P $mode incr counter
    run "lrange $mode" - $P $mode lrange list 0 -1
    run "empty $mode" - $P $mode lrange nolist 0 -1
    run "err $mode" - $P $mode nosuchcommand a b
    run "wrongtype $mode" - $P $mode get list
    run "hgetall $mode" - $P $mode hgetall hash
    run "smembers $mode" - $P $mode smembers set
    run "zscore $mode" - $P $mode zscore zset z
    run "zrange ws $mode" - $P $mode zrange zset 0 -1 withscores
    run "nested $mode" - $P $mode eval "return {1,{2,'x\n\"y'},{},false,true}" 0
    run "escapes $mode" - $P $mode echo "$(printf 'a\tb\\c"d\001\377')"
    run "exists $mode" - $P $mode exists str list
    run "map $mode" - $P $mode eval "redis.setresp(3) return {map={a={1,2},b='x'}}" 0
    run "set3 $mode" - $P $mode eval "redis.setresp(3) return {set={a=true}}" 0
    run "config $mode" - $P $mode config get maxmemory*
    run "multi $mode" "multi\nset a 1\nget a\nexec\n" $P $mode
    run "stdin $mode" "ping\nget str\nlrange list 0 -1\nfoo\n\nselect 2\nset x \"a b\"\nget x\n" $P $mode
    run "bad quotes $mode" "set \"a b\n3 ping\n0 ping\n-1 ping\n\"\" ping\n" $P $mode
done
run "long array" - $P --no-raw eval "local t={} for i=1,12 do t[i]={i,'v'} end return t" 0
run "map tty" - $P -3 --no-raw config get maxmemory*
run "map nested tty" - $P -3 --no-raw eval "redis.setresp(3) return {map={a={map={x={1,{2,3}}}},b={}}}" 0
run "verbatim" - $P -3 --no-raw eval "return redis.setresp(3) and {verbatim_string={format='txt',string='v'}}" 0
run "double" - $P -3 --no-raw eval "redis.setresp(3) return {double=3.25}" 0
run "bool" - $P -3 --no-raw eval "redis.setresp(3) return true" 0
run "delims" - $P -d : -D '|' lrange list 0 -1
run "delims2" - $P -d "" --raw hgetall hash
run "repeat" - $P -r 3 incr c
run "repeat interval" - $P -r 2 -i 0.01 ping
run "-n" - $P -n 3 set a 1
run "-n prompt" "get a\n" $P -n 3
run "-u" - -u "redis://127.0.0.1:$PORT/2" ping
run "-u pass" - -u "redis://:pw@127.0.0.1:$PORT/2" ping
run "-u nowarn" - --no-auth-warning -u "redis://user:pw@127.0.0.1:$PORT" ping
run "-a" - $P -a secret ping
run "-a nowarn" - $P --no-auth-warning -a secret --user bob ping
run "bad uri" - -u "http://x" ping
run "-e" - $P -e foo
run "-e ok" - $P -e ping
run "-e wrongtype" - $P -e lpush str x
run "-x" "from stdin\n" $P -x set k
run "-x get" "v\n" $P -x echo
run "-X" "tagged" $P -X TAG set k TAG
run "-X nomatch" "tagged" $P -X TAG set k v
run "-x -X" "" $P -x -X t ping
run "quoted-input" - $P --quoted-input set '"a\x00b"' '"v\n"'
run "quoted-input bad" - $P --quoted-input set '"a' b
run "refused" - -p 1 ping
run "refused stdin" "ping\nping\n" -p 1
run "socket missing" - -s /nonexistent/sock ping
run "badhost" - -h no.such.host.invalid ping
run "unknown opt" - $P --frobnicate
run "-2 -3" - $P -2 -3 ping
run "-h last" - -h
run "help" - --help
run "version" - --version
run "-v" - -v
run "info raw" - $P --no-raw info keyspace
run "client list" - $P --no-raw client getname
SORT=1 run "scan" - $P --scan
SORT=1 run "scan pattern" - $P --scan --pattern 's*'
SORT=1 run "scan quoted" - $P --scan --quoted-pattern '"l*"'
SORT=1 run "scan no-raw" - $P --no-raw --scan --pattern '*s*'
run "scan count" - $P --scan --count 10
SORT=1 run "bigkeys" - $P --bigkeys
SORT=1 run "memkeys" - $P --memkeys
run "pipe" "*3\r\n\$3\r\nSET\r\n\$1\r\nk\r\n\$1\r\nv\r\n*2\r\n\$3\r\nGET\r\n\$1\r\nk\r\n*1\r\n\$3\r\nFOO\r\n" $P --pipe
run "pipe inline" "PING\r\nSET a b\r\nINCR a\r\n" $P --pipe
run "pipe empty" "" $P --pipe
run "eval file" - $P --eval /nonexistent.lua k , a
run "select bad" - $P -n 99 ping
run "auth fail" - $P -a wrong ping
run "help cmd" - $P help get
run "help nothing" - $P help
run "stdin help" "help set\nhelp @hyperloglog\n" $P
run "quit" "ping\nquit\nping\n" $P
run "monitor err" - $P monitor extra
run "subscribe err" - $P subscribe
printf 'local a = 1\nredis.call("set", KEYS[1], ARGV[1])\nreturn a + 1\n' >"$TMP/t.lua"
printf 'bad lua(' >"$TMP/bad.lua"
run "eval" - $P --eval t.lua k , v
run "eval nokeys" - $P --eval t.lua , v
run "eval -3" - $P -3 --no-raw --eval t.lua k , v
run "eval bad" - $P --eval bad.lua
run "ldb" "step\nprint\nrestart\nstep\nc\nping\n" $P --ldb --eval t.lua k , v
run "ldb sync" "step\nlist\nc\n" $P --ldb-sync-mode --eval t.lua k , v
TERM=xterm run "ldb color" "step\nc\n" $P --ldb --eval t.lua k , v
run "ldb bad" "step\n" $P --ldb --eval bad.lua

run "script debug" "script debug yes\neval \"return 1\" 0\nstep\nping\n" $P
FAKETTY=1 run "tty tracking" "client tracking on\nget str\nset str 2\nget str\nflushall\nping\n" $P -3
FAKETTY=1 run "tty tracking noloop" "client tracking on bcast prefix s\nset str 2\nping\n" $P -3
run "raw tracking" "client tracking on\nget str\nset str 2\nget str\nping\n" $P -3
FAKETTY=1 run "tty show-pushes no" "client tracking on\nget str\nset str 2\nping\n" $P -3 --show-pushes no
run "show-pushes yes" "client tracking on\nget str\nset str 2\nping\n" $P -3 --show-pushes yes
run "show-pushes bad" - $P --show-pushes maybe ping
FAKETTY=1 run "tty one-shot" - $P lrange list 0 -1
FAKETTY=1 run "tty multi" "multi\nselect 3\nexec\nget a\nmulti\nselect 4\ndiscard\nping\n" $P
run "reset" "select 2\nreset\nget a\n" $P
MASK=1 run "latency raw shape" - $P --latency -i 0.3 --raw
run "bigkeys empty db" - $P -n 5 --bigkeys
run "hotkeys" - $P --hotkeys
run "pipe-timeout" "PING\r\n" $P --pipe --pipe-timeout 5
run "subscribe err" - $P subscribe
run "psubscribe err" "psubscribe\nping\n" $P
MASK=1 run "info" - $P --no-raw info server
MASK=1 run "client list no-raw" - $P --no-raw client info
run "lolwut" - $P --no-raw lolwut version 5 1 1 1
run "debug" - $P --no-raw memory doctor

run "cluster help" - --cluster help
for c in "check 127.0.0.1:$PORT" "info 127.0.0.1 $PORT" "call 127.0.0.1:$PORT ping" "create 127.0.0.1:$PORT" "create 127.0.0.1:$PORT 127.0.0.1:$PORT" "fix 127.0.0.1:$PORT" "reshard 127.0.0.1:$PORT" "check 127.0.0.1:1" "nosuch" "check" "check nohostport" "backup 127.0.0.1:$PORT /tmp" "rebalance 127.0.0.1:$PORT" "add-node 127.0.0.1:$PORT 127.0.0.1:$PORT" "del-node 127.0.0.1:$PORT abc" "set-timeout 127.0.0.1:$PORT 10" "set-timeout 127.0.0.1:$PORT 1000" "import 127.0.0.1:$PORT"; do
    run "cluster $c" - --cluster $c
    TERM=xterm run "cluster color $c" - --cluster $c
done
run "cluster import from" - --cluster import 127.0.0.1:$PORT --cluster-from 127.0.0.1:1
run "cluster twice" - --cluster check x --cluster check y

echo "cli-compare: $pass passed, $fail failed"
[ $fail = 0 ]
