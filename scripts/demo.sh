#!/bin/sh
# demo.sh BUILD_DIR — Ray's NYC taxi tutorial as far as Manta goes today:
# generate the 2021 taxi table once (cached in data/ at the repo root,
# git-ignored), inspect it and compute the mean fare per passenger count with
# the manta CLI, then start a local cluster and compute the same aggregate
# with one task per row group (examples/taxi_cluster), run the tutorial's
# data section as Datasets (examples/nyc_taxi: split, repartition, show,
# groupby, MinMaxScaler), and stop the cluster.
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
echo

# The same aggregate on a local cluster: one task per row group. The cluster
# lives in a private folder under the build directory on a free port, so the
# demo never collides with a cluster the user runs.
CLUSTER_DIR=$(cd "$BUILD" && pwd)/demo-cluster
export MANTA_TEMP_DIR="$CLUSTER_DIR" MANTA_BIN="$MANTA"
cleanup() { "$MANTA" stop >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
mkdir -p "$CLUSTER_DIR"
echo "== Start a local cluster: ray start --head"
"$MANTA" start --head --port 0 --temp-dir "$CLUSTER_DIR"
echo
echo "== Cluster status: ray status"
"$MANTA" status
echo
echo "== Ray Core: mean fare per passenger count, one task per row group on the cluster"
"$BUILD/examples/taxi_cluster" "$FILE"
echo
echo "== Ray Data on the cluster: the tutorial's data section (examples/nyc_taxi.c)"
"$BUILD/examples/nyc_taxi" "$FILE"
echo
echo "== Stop the cluster: ray stop"
"$MANTA" stop
trap - EXIT INT TERM
