#!/bin/sh
# Builds are done by CMake; this runs every example program and checks what
# it prints, so the examples in the README stay true.
set -eu
EX="$MT_BINARY_DIR/examples"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
out="$TMP/out.txt"
"$EX/taxi_data" 5000 "$TMP/t.parquet" >"$out"
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
grep -q '^Number of samples: 5000$' "$out" || fail "row count"
grep -q '^fare_amount  *double$' "$out" || fail "schema"
grep -q "^{'passenger_count': 1.0, 'mean(fare_amount)': " "$out" || fail "group-by row"
[ "$(grep -c "^{'passenger_count'" "$out")" -ge 6 ] || fail "show + group-by rows"
[ -f "$TMP/t.parquet" ] || fail "parquet file written"
"$MANTA_BIN" data count "$TMP/t.parquet" | grep -qx 5000 || fail "manta count of the example file"
# taxi_cluster: tasks on an embedded cluster (private temp dir) must give the
# same means as the local group-by above.
export MANTA_TEMP_DIR="$TMP/c" MANTA_BIN="$MANTA_BIN"
mkdir -p "$MANTA_TEMP_DIR"
"$EX/taxi_cluster" "$TMP/t.parquet" >"$TMP/cluster.txt" 2>&1 || { cat "$TMP/cluster.txt"; fail "taxi_cluster"; }
grep -q '^1 tasks, one per row group, ran on the cluster$' "$TMP/cluster.txt" || { cat "$TMP/cluster.txt"; fail "taxi_cluster task count"; }
grep "^{'passenger_count'" "$out" | tail -n +6 > "$TMP/local_means.txt"
grep "^{'passenger_count'" "$TMP/cluster.txt" > "$TMP/cluster_means.txt"
# Same keys; means equal to 12 significant digits (summation order differs).
awk -F"'mean\\(fare_amount\\)': " '{printf "%s %.12g\n", $1, $2}' "$TMP/local_means.txt" > "$TMP/a"
awk -F"'mean\\(fare_amount\\)': " '{printf "%s %.12g\n", $1, $2}' "$TMP/cluster_means.txt" > "$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || { diff "$TMP/a" "$TMP/b"; fail "cluster means differ from local group-by"; }
if pgrep -f "$MANTA_TEMP_DIR" >/dev/null 2>&1; then pkill -9 -f "$MANTA_TEMP_DIR"; fail "cluster processes left behind"; fi
echo "examples: ok"
