#!/bin/sh
# Writer round trip against the independent oracle: for every codec x
# dictionary on/off x page version 1/2 x small/default page size, converts a
# flat CSV table and the oracle-generated nested and typed Parquet files with
# `manta data convert`, then reads each output with DuckDB, arrow-rs and
# manta and compares the rows by value with the source's rows (the oracle's
# expected NDJSON, or manta's reading of the CSV).
# Needs the oracle in $MT_BINARY_DIR/oracle (scripts/setup-oracle.sh).
set -eu
: "${MANTA_BIN:?}" "${MT_SOURCE_DIR:?}" "${MT_BINARY_DIR:?}"
ORACLE="$MT_BINARY_DIR/oracle"
if [ ! -f "$ORACLE/.installed" ]; then
    echo "SKIP: oracle not installed"
    exit 77
fi
DATA="$MT_SOURCE_DIR/../shared/testdata/oracle-generated"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# A flat table: ints, floats (incl. negative and fractional), strings with
# empty, quoted and non-ASCII values, booleans, and nulls in each column.
awk 'BEGIN {
    print "id,qty,price,name,flag";
    split("alpha,beta,,gam\"\"ma,d\xc3\xa9lta,x y", w, ",");
    for (i = 0; i < 3000; i++) {
        q = (i % 11 == 5) ? "" : (i * 7919) % 1000 - 500;
        p = (i % 13 == 7) ? "" : sprintf("%.3f", (i * 104729 % 100000) / 37.0 - 1000);
        n = (i % 17 == 3) ? "" : "\"" w[i % 6 + 1] (i % 50) "\"";
        f = (i % 19 == 2) ? "" : ((i * 31) % 3 == 0 ? "true" : "false");
        print i "," q "," p "," n "," f;
    }
}' > "$WORK/flat.csv"
"$MANTA_BIN" data cat "$WORK/flat.csv" --format jsonl > "$WORK/flat.ref.ndjson"

SOURCES="flat.csv:$WORK/flat.ref.ndjson
nested_wasm_snappy_dict_v1.parquet:$DATA/expected_nested.ndjson
types_wasm_none_plain_v1.parquet:$DATA/expected_types.ndjson"

: > "$WORK/manifest"
n=0
for codec in none snappy gzip zstd lz4_raw brotli; do
  for dict in on off; do
    for pv in 1 2; do
      for ps in small default; do
        if [ "$ps" = small ]; then psopt="--page-size 700 --row-group-size 1100"; else psopt=""; fi
        echo "$SOURCES" | while IFS=: read -r src ref; do
          case "$src" in
            *.csv) in="$WORK/$src" ;;
            *) in="$DATA/$src" ;;
          esac
          out="$WORK/${src%.*}-$codec-$dict-$pv-$ps.parquet"
          # shellcheck disable=SC2086
          "$MANTA_BIN" data convert "$in" "$out" --codec "$codec" --dictionary "$dict" \
              --page-version "$pv" $psopt
          "$MANTA_BIN" data cat "$out" --format jsonl > "$out.manta.ndjson"
          printf '%s\t%s\t%s\n' "$out" "$ref" "$out.manta.ndjson" >> "$WORK/manifest"
        done
        n=$((n + 1))
      done
    done
  done
done
echo "converted $(wc -l < "$WORK/manifest") files ($n option sets)"
node "$MT_SOURCE_DIR/tests/parquet/roundtrip_check.mjs" "$ORACLE" "$WORK/manifest"
