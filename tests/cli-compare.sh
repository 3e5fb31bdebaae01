#!/usr/bin/env bash
# Differential check: run the same invocations through redis-cli and
# ermine-cli against a real redis-server and compare stdout, stderr and
# the exit status byte for byte.
#
# Every case's redis-cli result is also kept as a hash in
# tests/data/cli-compare.sums, so the check still runs where redis-cli is
# not installed (ermine-cli is then compared with the recording, against
# redis-server, or against ermine-server for the cases that do not depend
# on the server). With both clis installed, redis-cli's results must
# still match the recording (re-record with RECORD=1 after adding cases).
#
# Usage: tests/cli-compare.sh [port]
# Env:   ERMINE_CLI=path (default target/debug/ermine-cli)
#        ERMINE_SERVER=path (default target/debug/ermine-server; used when
#        redis-server is missing)   RECORD=1: rewrite the recording
#        NO_REDIS_CLI=1 / NO_REDIS_SERVER=1: act as if not installed
set -u
export LC_ALL=C
PORT=${1:-7471}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ECLI=${ERMINE_CLI:-$ROOT/target/debug/ermine-cli}
ESERVER=${ERMINE_SERVER:-$ROOT/target/debug/ermine-server}
SUMS=$ROOT/tests/data/cli-compare.sums
RCLI=$(command -v redis-cli || true)
RSERVER=$(command -v redis-server || true)
# To try the fallbacks where the tools are installed.
[ -n "${NO_REDIS_CLI:-}" ] && RCLI=
[ -n "${NO_REDIS_SERVER:-}" ] && RSERVER=
[ -x "$ECLI" ] || (cd "$ROOT" && cargo build --quiet) || exit 1
if [ -n "${RECORD:-}" ] && { [ -z "$RCLI" ] || [ -z "$RSERVER" ]; }; then
    echo "RECORD needs redis-cli and redis-server"; exit 1
fi
# compare: both clis (and redis-cli against the recording);
# replay: ermine-cli against the recording only.
MODE=compare; [ -z "$RCLI" ] && MODE=replay
SERVER_KIND=redis; [ -z "$RSERVER" ] && SERVER_KIND=ermine
SETUP=${RCLI:-$ECLI}

TMP=$(mktemp -d)
STARTED=0
if ! "$SETUP" -p "$PORT" ping >/dev/null 2>&1; then
    if [ $SERVER_KIND = redis ]; then
        "$RSERVER" --port "$PORT" --save '' --appendonly no --daemonize yes \
            --enable-debug-command yes --pidfile "$TMP/server.pid" --dir "$TMP" >/dev/null
    else
        "$ESERVER" --port "$PORT" --save '' --appendonly no --enable-debug-command yes \
            --dir "$TMP" >/dev/null 2>&1 &
        echo $! >"$TMP/server.pid"
    fi
    STARTED=1
    for _ in $(seq 100); do "$SETUP" -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
cleanup() {
    if [ $STARTED = 1 ] && [ -s "$TMP/server.pid" ]; then
        local pid; pid=$(cat "$TMP/server.pid")
        kill "$pid" 2>/dev/null
        # Wait for it to release the port.
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
"$SETUP" -p "$PORT" ping >/dev/null 2>&1 || { echo "cli-compare: no server on port $PORT"; exit 1; }
# Relative paths in the cases (--eval t.lua) are in $TMP.
cd "$TMP" || exit 1
[ -n "${RECORD:-}" ] && : >"$SUMS.new"
idx=0; skipped=0

# The recording, by case number: "hash<TAB>name".
declare -a RECORDED
if [ -f "$SUMS" ]; then
    while IFS=$'\t' read -r n h nm; do RECORDED[$n]="$h"$'\t'"$nm"; done <"$SUMS"
fi

# Hash of one result.
result_hash() {
    local i=$1
    local h
    h=$({ cat "$TMP/$i.out"; echo "#err#"; cat "$TMP/$i.err"; echo "#rc#"; cat "$TMP/$i.rc"; } | sha256sum)
    echo "${h:0:16}"
}

pass=0; fail=0
TAB=$(printf '\t')
# run NAME STDIN ARGS...   (STDIN: literal text fed on stdin, "-" for none)
# Env: SORT=1 sort stdout, MASK=1 zero every digit of stdout,
#      SERVER_DEPENDENT=1 skip in replay against ermine-server,
#      VOLATILE=1 differs between server runs (dict order, run ids):
#      compared between the clis only, never recorded.
run() {
    local name=${1//$PORT/PORT} input=$2; shift 2
    local i clis=e
    idx=$((idx+1))
    local recorded=${RECORDED[$idx]:-} t0=$EPOCHREALTIME
    if [ $MODE = replay ] && { [ -n "${VOLATILE:-}" ] || { [ $SERVER_KIND = ermine ] && [ -n "${SERVER_DEPENDENT:-}" ]; }; }; then
        skipped=$((skipped+1)); return
    fi
    [ $MODE = compare ] && clis="r e"
    for i in $clis; do
        local cli=$RCLI; [ $i = e ] && cli=$ECLI
        printf 'flushall\nrpush list a b c\nset str "hello world"\nhset hash f1 v1 f2 v2\nsadd set m1\nzadd zset 1.5 z\n' |
            "$SETUP" -p "$PORT" >/dev/null
        if [ "$input" = "-" ]; then
            "$cli" "$@" </dev/null >"$TMP/$i.out" 2>"$TMP/$i.err"; echo $? >"$TMP/$i.rc"
        else
            printf '%b' "$input" | "$cli" "$@" >"$TMP/$i.out" 2>"$TMP/$i.err"; echo $? >"$TMP/$i.rc"
        fi
        # Version strings may carry a build suffix; the port varies.
        sed -i -E -e 's/^redis-cli 7\.0\.15( \([^)]*\))?$/redis-cli 7.0.15/' -e "s/$PORT/PORT/g" "$TMP/$i.out" "$TMP/$i.err"
        # Key order of SCAN depends on the server's rehashing progress.
        [ -n "${SORT:-}" ] && sort -o "$TMP/$i.out" "$TMP/$i.out"
        # Timings, ids and ports vary between runs.
        [ -n "${MASK:-}" ] && sed -i 's/[0-9]/0/g' "$TMP/$i.out"
    done
    local eh; eh=$(result_hash e)
    local ok=1
    if [ $MODE = compare ]; then
        local rh; rh=$(result_hash r)
        [ -n "${VOLATILE:-}" ] && rh=volatile
        [ -n "${RECORD:-}" ] && printf '%s\t%s\t%s\n' $idx "$rh" "$name" >>"$SUMS.new"
        cmp -s "$TMP/r.out" "$TMP/e.out" && cmp -s "$TMP/r.err" "$TMP/e.err" && cmp -s "$TMP/r.rc" "$TMP/e.rc" || ok=0
        if [ -z "${RECORD:-}" ] && [ "$recorded" != "$rh$TAB$name" ]; then
            echo "STALE RECORDING: case $idx $name (redis-cli gives $rh, recorded: ${recorded:-none}); rerun with RECORD=1"
            ok=0
        fi
    elif [ "$recorded" != "$eh$TAB$name" ]; then
        ok=0
    fi
    [ -n "${TIMING:-}" ] && echo "time $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) ms: $name"
    if [ $ok = 1 ]; then
        pass=$((pass+1))
    else
        fail=$((fail+1))
        echo "FAIL: $name: $*"
        if [ $MODE = compare ]; then
            for f in out err rc; do
                cmp -s "$TMP/r.$f" "$TMP/e.$f" || { echo "  --- $f (redis-cli vs ermine-cli)"; diff <(od -c "$TMP/r.$f") <(od -c "$TMP/e.$f") | head -20; }
            done
        else
            echo "  ermine-cli $eh, recorded $recorded"; head -c 600 "$TMP/e.out"; head -c 300 "$TMP/e.err"
        fi
    fi
}

P="-p $PORT"
# One-shot output of every reply type in each form: raw (stdout is a
# pipe here), human (--no-raw; FAKETTY=1, which redis-cli also honours,
# picks it by default), CSV, JSON, over RESP2 and RESP3.
forms() {
    local mode=$1
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
    VOLATILE=1 run "config $mode" - $P $mode config get maxmemory*
    run "multi $mode" "multi\nset a 1\nget a\nexec\n" $P $mode
    run "stdin $mode" "ping\nget str\nlrange list 0 -1\nfoo\n\nselect 2\nset x \"a b\"\nget x\n" $P $mode
    run "bad quotes $mode" "set \"a b\n3 ping\n0 ping\n-1 ping\n\"\" ping\n" $P $mode
}
for mode in "" "--no-raw" "--csv" "--json" "--quoted-json" "-3" "-3 --no-raw" "-3 --csv" "-3 --json"; do
    forms "$mode"
done
# DEBUG PROTOCOL sends each RESP3 type as such (RESP2 clients get the
# downgraded form).
for mode in "" "--no-raw" "-3" "-3 --no-raw" "-3 --csv" "-3 --json" "-3 --quoted-json"; do
    for t in string integer double bignum null array set map attrib push verbatim true false; do
        run "proto $t $mode" - $P $mode debug protocol $t
    done
done
for mode in "" "-3"; do
    FAKETTY=1 run "tty nil $mode" - $P $mode get nokey
    FAKETTY=1 run "tty err $mode" - $P $mode nosuchcommand a b
    FAKETTY=1 run "tty hgetall $mode" - $P $mode hgetall hash
    FAKETTY=1 run "tty nested $mode" - $P $mode eval "return {1,{2,'x'},{},false,true}" 0
    for t in double map set push verbatim true; do
        FAKETTY=1 run "tty proto $t $mode" - $P $mode debug protocol $t
    done
done
run "json -2" - $P -2 --json hgetall hash
run "raw -3" - $P -3 --raw debug protocol map
run "long array" - $P --no-raw eval "local t={} for i=1,12 do t[i]={i,'v'} end return t" 0
VOLATILE=1 run "map tty" - $P -3 --no-raw config get maxmemory*
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
SERVER_DEPENDENT=1 SORT=1 run "memkeys" - $P --memkeys
run "pipe" "*3\r\n\$3\r\nSET\r\n\$1\r\nk\r\n\$1\r\nv\r\n*2\r\n\$3\r\nGET\r\n\$1\r\nk\r\n*1\r\n\$3\r\nFOO\r\n" $P --pipe
run "pipe inline" "PING\r\nSET a b\r\nINCR a\r\n" $P --pipe
run "pipe empty" "" $P --pipe
run "eval file" - $P --eval /nonexistent.lua k , a
run "select bad" - $P -n 99 ping
run "auth fail" - $P -a wrong ping
SERVER_DEPENDENT=1 run "help cmd" - $P help get
run "help nothing" - $P help
SERVER_DEPENDENT=1 run "stdin help" "help set\nhelp @hyperloglog\n" $P
run "quit" "ping\nquit\nping\n" $P
run "monitor err" - $P monitor extra
run "subscribe err" - $P subscribe
printf 'local a = 1\nredis.call("set", KEYS[1], ARGV[1])\nreturn a + 1\n' >"$TMP/t.lua"
printf 'bad lua(' >"$TMP/bad.lua"
run "eval" - $P --eval t.lua k , v
run "eval nokeys" - $P --eval t.lua , v
run "eval -3" - $P -3 --no-raw --eval t.lua k , v
run "eval bad" - $P --eval bad.lua
SERVER_DEPENDENT=1 run "ldb" "step\nprint\nrestart\nstep\nc\nping\n" $P --ldb --eval t.lua k , v
SERVER_DEPENDENT=1 run "ldb sync" "step\nlist\nc\n" $P --ldb-sync-mode --eval t.lua k , v
SERVER_DEPENDENT=1 TERM=xterm run "ldb color" "step\nc\n" $P --ldb --eval t.lua k , v
SERVER_DEPENDENT=1 run "ldb bad" "step\n" $P --ldb --eval bad.lua

SERVER_DEPENDENT=1 run "script debug" "script debug yes\neval \"return 1\" 0\nstep\nping\n" $P
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
VOLATILE=1 MASK=1 run "info" - $P --no-raw info server
SERVER_DEPENDENT=1 VOLATILE=1 MASK=1 run "client list no-raw" - $P --no-raw client info
SERVER_DEPENDENT=1 run "lolwut" - $P --no-raw lolwut version 5 1 1 1
SERVER_DEPENDENT=1 run "debug" - $P --no-raw memory doctor

run "cluster help" - --cluster help
for c in "check 127.0.0.1:$PORT" "info 127.0.0.1 $PORT" "call 127.0.0.1:$PORT ping" "create 127.0.0.1:$PORT" "create 127.0.0.1:$PORT 127.0.0.1:$PORT" "fix 127.0.0.1:$PORT" "reshard 127.0.0.1:$PORT" "check 127.0.0.1:1" "nosuch" "check" "check nohostport" "backup 127.0.0.1:$PORT /tmp" "rebalance 127.0.0.1:$PORT" "add-node 127.0.0.1:$PORT 127.0.0.1:$PORT" "del-node 127.0.0.1:$PORT abc" "set-timeout 127.0.0.1:$PORT 10" "set-timeout 127.0.0.1:$PORT 1000" "import 127.0.0.1:$PORT"; do
    run "cluster $c" - --cluster $c
    TERM=xterm run "cluster color $c" - --cluster $c
done
run "cluster import from" - --cluster import 127.0.0.1:$PORT --cluster-from 127.0.0.1:1
run "cluster twice" - --cluster check x --cluster check y

[ -n "${RECORD:-}" ] && mv "$SUMS.new" "$SUMS"
echo "cli-compare ($MODE, $SERVER_KIND server, $skipped skipped): $pass passed, $fail failed"
[ $fail = 0 ]
