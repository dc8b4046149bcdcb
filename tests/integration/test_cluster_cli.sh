#!/bin/sh
# test_cluster_cli.sh — `manta start --head / status / stop` on a private
# temp dir and a free port: start text, session files and token mode, status
# shape, a second start refused without changes, a garbage connection to the
# control store, --block noticing a dead daemon, and stop leaving no process
# of the session behind. Cleans up on every exit path.
set -u
M=${MANTA_BIN:?MANTA_BIN must name the manta executable}
T=$(mktemp -d -t manta-cli-XXXXXX)
OUT="$T/out.txt"
fail() { echo "FAIL: $*"; [ -f "$OUT" ] && sed 's/^/  | /' "$OUT"; exit 1; }
cleanup() {
    "$M" stop --force --temp-dir "$T" >/dev/null 2>&1
    for p in $(pgrep -f -- "$T/session_" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# --- start ---
"$M" start --head --port 0 --num-cpus 2 --temp-dir "$T" >"$OUT" 2>&1 || fail "start exited $?"
grep -q '^Local node IP: 127.0.0.1$' "$OUT" || fail "no Local node IP line"
grep -q '^Manta runtime started.$' "$OUT" || fail "no started line"
grep -q "manta start --address='127.0.0.1:[0-9]*'" "$OUT" || fail "no join hint"
grep -q 'manta stop' "$OUT" || fail "no stop hint"
S=$(readlink "$T/session_latest") || fail "no session_latest link"
case "$S" in "$T"/session_20*_*) ;; *) fail "session folder name $S" ;; esac
for f in token session.json gcs.ready node.ready logs/gcs.log logs/node.log; do
    [ -e "$S/$f" ] || fail "missing $f"
done
[ "$(stat -c %a "$S/token")" = 600 ] || fail "token mode $(stat -c %a "$S/token")"
ADDR=$(sed -n 's/^address=tcp:\/\///p' "$S/gcs.ready")
PORT=${ADDR##*:}
[ -n "$PORT" ] && [ "$PORT" -gt 0 ] || fail "no control store port in gcs.ready"
grep -q "\"gcs_address\": \"tcp://$ADDR\"" "$S/session.json" || fail "session.json gcs_address"

# --- status ---
"$M" status --temp-dir "$T" >"$OUT" 2>&1 || fail "status exited $?"
grep -Eq '^======== Autoscaler status: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{6} ========$' "$OUT" || fail "status header"
grep -Eq '^ 1 node_[0-9a-f]{40}$' "$OUT" || fail "active node line"
grep -q '^ 0.0/2.0 CPU$' "$OUT" || fail "CPU usage line"
grep -Eq '^ [0-9.]+[KMG]?i?B/[0-9.]+[KMG]iB object_store_memory$' "$OUT" || fail "object store line"
grep -q '^ (no resource demands)$' "$OUT" || fail "demands line"
grep -q '^ (no failures)$' "$OUT" || fail "failures line"

# --- second start is refused and changes nothing ---
BEFORE=$(ls "$T" | sort)
"$M" start --head --port 0 --temp-dir "$T" >"$OUT" 2>&1 && fail "second start succeeded"
grep -qx "Manta is already running at $ADDR (session $S); run 'manta stop' first" "$OUT" || fail "refusal text"
[ "$(ls "$T" | grep -v out.txt | sort)" = "$(echo "$BEFORE" | grep -v out.txt)" ] || fail "second start changed $T"
[ "$(readlink "$T/session_latest")" = "$S" ] || fail "session_latest moved"

# --- garbage on the control store port: closed, daemon still answers ---
if command -v python3 >/dev/null 2>&1; then
    python3 - "$PORT" <<'PY' || fail "garbage connection was not closed"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"\xff" * 64 + b"GET / HTTP/1.0\r\n\r\n")
s.settimeout(5)
sys.exit(0 if s.recv(100) == b"" else 1)
PY
fi
"$M" status --temp-dir "$T" >"$OUT" 2>&1 || fail "status after garbage exited $?"
grep -Eq '^ 1 node_[0-9a-f]{40}$' "$OUT" || fail "status after garbage"

# --- stop ---
"$M" stop --temp-dir "$T" >"$OUT" 2>&1 || fail "stop exited $?"
grep -Eq '^Stopped all [0-9]+ Manta processes\.$' "$OUT" || fail "stop text"
N=$(sed -n 's/^Stopped all \([0-9]*\) Manta processes\.$/\1/p' "$OUT")
[ "$N" -ge 2 ] || fail "stopped only $N processes"
[ -z "$(pgrep -f -- "$S" 2>/dev/null)" ] || fail "processes of the session left: $(pgrep -af -- "$S")"
[ -z "$(ls "$S/sockets")" ] || fail "sockets left: $(ls "$S/sockets")"
"$M" stop --temp-dir "$T" >"$OUT" 2>&1 || fail "second stop exited $?"
grep -qx 'Did not find any active Manta processes.' "$OUT" || fail "nothing-running text"
"$M" status --temp-dir "$T" >"$OUT" 2>&1 && fail "status succeeded with nothing running"

# --- a daemon that fails to start: exit 1, its log tail, nothing left running ---
"$M" start --head --port 0 --temp-dir "$T" --num-cpus abc >"$OUT" 2>&1 && fail "start with --num-cpus abc succeeded"
grep -q '^manta start: node-daemon did not start (log: .*/logs/node.log): process [0-9]* exited with status 2$' "$OUT" || fail "failed-start message"
grep -q '^---- last lines of .*/logs/node.log ----$' "$OUT" && grep -q "'abc'" "$OUT" || fail "no log tail"
SF=$(readlink "$T/session_latest")
[ -z "$(pgrep -f -- "$SF" 2>/dev/null)" ] || fail "failed start left processes: $(pgrep -af -- "$SF")"

# --- --block: a dead daemon ends `manta start` with status 1 ---
"$M" start --head --port 0 --temp-dir "$T" --block >"$OUT" 2>&1 &
BG=$!
i=0
while :; do
    S2=$(readlink "$T/session_latest")
    [ "$S2" != "$SF" ] && [ -f "$S2/session.json" ] && break
    i=$((i + 1)); [ $i -lt 300 ] || fail "--block start did not come up"
    sleep 0.1
done
NODE_PID=$(sed -n 's/.*"node_pid": \([0-9]*\).*/\1/p' "$S2/session.json")
kill -9 "$NODE_PID"
wait $BG
RC=$?
[ $RC -eq 1 ] || fail "--block exit $RC after the node daemon died"
grep -q '^Manta processes died unexpectedly:$' "$OUT" || fail "--block message"
[ -z "$(pgrep -f -- "$S2" 2>/dev/null)" ] || fail "--block left processes: $(pgrep -af -- "$S2")"
echo "ok"
