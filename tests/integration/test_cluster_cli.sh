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

# --- a daemon that fails to start (port taken): exit 1, log tail, nothing left, latest untouched ---
mkdir -m 700 "$T/other"
"$M" start --head --port "$PORT" --temp-dir "$T/other" >"$OUT" 2>&1 && fail "start on a taken port succeeded"
grep -q '^manta start: gcs-server did not start (log: .*/logs/gcs.log): process [0-9]* exited with status 1$' "$OUT" || fail "failed-start message"
grep -q '^---- last lines of .*/logs/gcs.log ----$' "$OUT" && grep -q "Address already in use" "$OUT" || fail "no log tail"
[ ! -e "$T/other/session_latest" ] || fail "a failed start pointed session_latest at $(readlink "$T/other/session_latest")"
SF=$(ls -d "$T"/other/session_* 2>/dev/null)
[ -n "$SF" ] && [ -f "$SF/logs/gcs.log" ] || fail "the failed session's logs are gone"
[ -z "$(pgrep -f -- "$SF" 2>/dev/null)" ] || fail "failed start left processes: $(pgrep -af -- "$SF")"

# --- joining without a token: clear error, nothing created; with --token / MANTA_TOKEN: joins ---
mkdir -m 700 "$T/join"
"$M" start --address "$ADDR" --temp-dir "$T/join" >"$OUT" 2>&1 && fail "join without a token succeeded"
grep -qx "manta start: joining $ADDR needs the cluster token: pass --token, --token-file or set MANTA_TOKEN (the head's token is in its session folder)" "$OUT" || fail "no-token message"
[ -z "$(ls "$T/join")" ] || fail "a refused join left $(ls "$T/join")"
"$M" start --address "$ADDR" --temp-dir "$T/join" --token 0123 >"$OUT" 2>&1 && fail "short --token accepted"
grep -qx "manta start: bad --token: expected 64 hex digits, got 4 characters" "$OUT" || fail "bad-token message"
"$M" start --address "$ADDR" --temp-dir "$T/join" --token "$(cat "$S/token")" >"$OUT" 2>&1 || fail "join with --token exited $?"
MANTA_TOKEN=$(cat "$S/token") "$M" start --address "$ADDR" --temp-dir "$T/join2" >"$OUT" 2>&1 || fail "join with MANTA_TOKEN exited $?"
"$M" config >"$OUT" 2>&1
MANTA_TOKEN=$(cat "$S/token") "$M" config | grep -qx "token = (set)  # .*" || fail "manta config shows the token"
MANTA_TOKEN=$(cat "$S/token") "$M" config | grep -q "$(cat "$S/token")" && fail "manta config printed the token"
"$M" status --temp-dir "$T" >"$OUT" 2>&1 || fail "status with joined nodes exited $?"
[ "$(grep -Ec '^ 1 node_[0-9a-f]{40}$' "$OUT")" = 3 ] || fail "joined nodes not active"
"$M" stop --temp-dir "$T/join" >/dev/null 2>&1
"$M" stop --temp-dir "$T/join2" >/dev/null 2>&1

# --- temp roots and sessions must be this user's and not writable by others ---
mkdir -m 777 "$T/open"
"$M" start --head --port 0 --temp-dir "$T/open" >"$OUT" 2>&1 && fail "start in a world-writable root succeeded"
grep -qx "manta start: refusing temp root $T/open: writable by group or other (mode 777)" "$OUT" || fail "open-root message"
[ -z "$(ls "$T/open")" ] || fail "refused root got $(ls "$T/open")"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
    mkdir -m 700 "$T/theirs" "$T/planted" "$T/planted/s"
    chown nobody "$T/theirs" "$T/planted/s"
    "$M" start --head --port 0 --temp-dir "$T/theirs" >"$OUT" 2>&1 && fail "start in another user's root succeeded"
    grep -qx "manta start: refusing temp root $T/theirs: owned by uid $(id -u nobody), not by this user (uid 0)" "$OUT" || fail "foreign-root message"
    ln -s "$T/planted/s" "$T/planted/session_latest"
    "$M" status --temp-dir "$T/planted" >"$OUT" 2>&1 && fail "status followed a planted session"
    grep -q "refusing session folder $T/planted/s: owned by uid $(id -u nobody)" "$OUT" || fail "planted-session message"
fi

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

# --- the control store died, its node daemon lives: a new head is refused (no orphan); stop ends it ---
"$M" start --head --port 0 --temp-dir "$T" >"$OUT" 2>&1 || fail "start (for the control-store crash) exited $?"
S3=$(readlink "$T/session_latest")
GCS_PID=$(sed -n 's/.*"gcs_pid": \([0-9]*\).*/\1/p' "$S3/session.json")
NODE_PID3=$(sed -n 's/.*"node_pid": \([0-9]*\).*/\1/p' "$S3/session.json")
kill -9 "$GCS_PID"
i=0; while kill -0 "$GCS_PID" 2>/dev/null; do i=$((i + 1)); [ $i -lt 100 ] || fail "gcs did not die"; sleep 0.05; done
"$M" start --head --port 0 --temp-dir "$T" >"$OUT" 2>&1 && fail "start over a live orphan-to-be succeeded"
grep -qx "manta start: the control store of session $S3 (pid $GCS_PID) is gone but its node daemon (pid $NODE_PID3) still runs; run 'manta stop' to end that session first" "$OUT" || fail "control-store-crash refusal text"
[ "$(readlink "$T/session_latest")" = "$S3" ] || fail "the refused start moved session_latest"
"$M" stop --temp-dir "$T" >"$OUT" 2>&1 || fail "stop after the control-store crash exited $?"
[ -z "$(pgrep -f -- "$S3" 2>/dev/null)" ] || fail "processes of the crashed session left: $(pgrep -af -- "$S3")"

SF=$(readlink "$T/session_latest")

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
