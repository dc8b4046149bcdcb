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
echo "examples: ok"
