# shellcheck shell=bash disable=SC2034
# Shared by deploy/cluster/up, down and rolling-restart (sourced, not run).
#
# What a cluster's folder DIR holds:
#   cluster.env       its facts (ports, binaries, passwords), KEY=value lines;
#                     readable by its owner only
#   pids              one line per process started: NAME PID START, where
#                     START is the kernel's start time of that process, so a
#                     pid reused by another program after a crash is never
#                     taken for ours
#   pgpass            onemap's database password (PGPASSFILE)
#   token             the editor token's secret
#   etcd/  nodeN/  haproxy.*  onemapN.log   each component's config and log

CLUSTER_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER_SRC=$(cd "$CLUSTER_HERE/../.." && pwd)

die() {
    echo "deploy/cluster: $*" >&2
    exit 1
}

say() {
    echo "deploy/cluster: $*" >&2
}

# PostgreSQL refuses to run as root: when root runs these scripts, Patroni
# (and so PostgreSQL) runs as `postgres`, as in tests/pg/cluster.
# AS_PG: the prefix that runs a command as that user; setpriv execs in place
# (no child), so the pid recorded for Patroni is Patroni's own.
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
    AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)
fi

# Debian's python3 (the scripts' small helpers: free ports, HAProxy's admin
# socket), not whatever wrapper PATH finds first: a version manager's shim
# costs half a second a call, and the socket is asked several times a second.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

fact() {
    local v
    v=$(sed -n "s/^$1=//p" "$DIR/cluster.env" | tail -1)
    [ -n "$v" ] || die "no $1 in $DIR/cluster.env"
    printf '%s\n' "$v"
}

# Free loopback ports, all held open at once while they are chosen, so that
# none is handed out twice.
free_ports() {
    "$PY" - "$1" <<'EOF'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

secret() {
    head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# render TEMPLATE OUT NAME...: the template with every @NAME@ replaced by the
# value of the shell variable NAME (values may span lines); fails on any
# placeholder left over.
render() {
    local tpl=$1 out=$2 text name
    shift 2
    text=$(<"$tpl")
    for name in "$@"; do
        text=${text//@$name@/${!name}}
    done
    if grep -qE '@[A-Z_]+@' <<<"$text"; then
        die "$tpl: unfilled $(grep -oE '@[A-Z_]+@' <<<"$text" | sort -u | tr '\n' ' ')"
    fi
    printf '%s\n' "$text" >"$out"
}

# start_time PID: the kernel's start time of a running process (field 22 of
# /proc/PID/stat, counted after the command's closing paren, since the
# command may hold spaces); nothing for a zombie, which is gone but for its
# exit status (our processes outlive up, and whoever reaps them may be slow).
start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    awk '$1 != "Z" {print $20}' <<<"$stat"
}

# launch NAME LOG COMMAND...: runs COMMAND in a session of its own (so that
# it outlives the shell and the terminal that started it), output to LOG,
# and records it in DIR/pids.
launch() {
    local name=$1 log=$2 pid
    shift 2
    setsid "$@" >>"$log" 2>&1 </dev/null &
    pid=$!
    sed -i "/^$name /d" "$DIR/pids"
    echo "$name $pid $(start_time "$pid" || echo 0)" >>"$DIR/pids"
}

# pid_of NAME: the pid of a recorded process that is still the same process,
# or nothing.
pid_of() {
    local name pid start
    [ -f "$DIR/pids" ] || return 0
    while read -r name pid start; do
        [ "$name" = "$1" ] || continue
        [ "$(start_time "$pid" 2>/dev/null)" = "$start" ] && echo "$pid"
    done <"$DIR/pids"
    return 0
}

alive() {
    [ -n "$(pid_of "$1")" ]
}

# stop NAME SECONDS: SIGTERM, then SIGKILL if it still runs after SECONDS.
stop() {
    local pid i
    pid=$(pid_of "$1")
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < $2 * 10; i++)); do
        alive "$1" || return 0
        sleep 0.1
    done
    say "$1 (pid $pid) still runs after ${2}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive "$1" || return 0
        sleep 0.1
    done
}

# wait_for SECONDS WHAT LOG COMMAND...: runs COMMAND until it succeeds; fails
# naming WHAT and the log to read when SECONDS pass first.
wait_for() {
    local seconds=$1 what=$2 log=$3 end
    shift 3
    end=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if [ "$SECONDS" -ge "$end" ]; then
            [ -f "$log" ] && tail -n 20 "$log" >&2
            die "$what: not within ${seconds}s (log: $log)"
        fi
        sleep 0.2
    done
}

http_ok() {
    curl -fsS -o /dev/null --max-time 2 "$1"
}

# hap COMMAND: a command on HAProxy's admin socket; prints the answer.
hap() {
    "$PY" - "$DIR/haproxy.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode())
EOF
}

# hap_status PROXY SERVER: HAProxy's view of one server (UP, DOWN, MAINT,
# DRAIN, "UP 1/2"...) and its current sessions, from `show stat`.
hap_status() {
    hap "show stat" | awk -F, -v px="$1" -v sv="$2" '$1 == px && $2 == sv {print $18, $5}'
}

# start_onemap N: `onemap serve` number N on its port, writing to the
# primary and reading from the replicas, both through HAProxy; the password
# comes from DIR/pgpass, never the command line. On SIGTERM it serves on for
# 3 s while its /health fails, so that HAProxy (checking every second, down
# after two failures half a second apart) has stopped sending it requests.
start_onemap() {
    local n=$1
    launch "onemap$n" "$DIR/onemap$n.log" env PGPASSFILE="$DIR/pgpass" \
        "$(fact ONEMAP_BIN)" serve --db "$(fact DATABASE_URL)" \
        --read-db "$(fact READ_DATABASE_URL)" --stop-grace 3 \
        --listen "127.0.0.1:$(fact "ONEMAP${n}_PORT")"
}

# stop_all: every process recorded, in the order that lets each stop
# cleanly: onemap (finishing its requests), HAProxy, the replicas' Patroni,
# the leader's (each stops its PostgreSQL), any PostgreSQL left behind by a
# Patroni that was killed, then etcd.
stop_all() {
    local name pid start n data
    [ -f "$DIR/pids" ] || return 0
    while read -r name pid start; do
        case $name in onemap*) stop "$name" 25 & ;; esac
    done <"$DIR/pids"
    wait
    stop haproxy 5
    while read -r name pid start; do
        case $name in node*) stop "$name" 30 & ;; esac
    done <"$DIR/pids"
    wait
    for data in "$DIR"/node*/data; do
        [ -f "$data/postmaster.pid" ] || continue
        pid=$(head -1 "$data/postmaster.pid")
        # only a postmaster whose data directory is this one
        if [ -n "$pid" ] && grep -qF -- "$data" "/proc/$pid/cmdline" 2>/dev/null; then
            say "PostgreSQL in $data still runs without its Patroni: stopping it"
            kill -QUIT "$pid" 2>/dev/null || true
            for ((n = 0; n < 50; n++)); do
                [ -d "/proc/$pid" ] || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    stop etcd 10
}
