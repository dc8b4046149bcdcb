#!/bin/sh
# demo.sh BUILD_DIR — the data-layer part of Ray's NYC taxi tutorial, with the
# manta CLI: generate the 2021 taxi table once (cached in data/ at the repo
# root, git-ignored), inspect it, and compute the mean fare per passenger count.
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MANTA=$BUILD/manta
FILE=$ROOT/data/nyc_taxi_2021.parquet
[ -x "$MANTA" ] || { echo "demo: $MANTA not found (run make build)" >&2; exit 1; }

if [ ! -s "$FILE" ]; then
    echo "== Generating the NYC taxi data set (2,000,000 trips, seed 0) into data/"
    mkdir -p "$ROOT/data"
    start=$(date +%s)
    "$MANTA" data gen-taxi --rows 2000000 --seed 0 --out "$FILE"
    echo "   done in $(( $(date +%s) - start )) s: $(wc -c < "$FILE") bytes"
    echo
fi

echo "== Load the data: ds = ray.data.read_parquet(\"data/nyc_taxi_2021.parquet\")"
echo
echo "== Inspect the schema: ds.schema()"
"$MANTA" data schema "$FILE"
echo
echo "== Count the rows: ds.count()"
"$MANTA" data count "$FILE"
echo
echo "== Look at the first rows: ds.show(5)"
"$MANTA" data show "$FILE" -n 5
echo
echo "== Average fare by passenger count: ds.groupby(\"passenger_count\").mean(\"fare_amount\")"
"$MANTA" data groupby "$FILE" --key passenger_count --mean fare_amount
