#!/bin/sh
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each, starting from
# the seed corpus in tests/fuzz/<target>/ (plus the Parquet test files).
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -eu
BUILD=${1:-build-fuzz}
SECS=${2:-15}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
found=0
for f in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    found=1
    name=$(basename "$f")
    work="$BUILD/fuzz-work/$name"
    mkdir -p "$work/corpus"
    seeds=""
    [ -d "$ROOT/tests/fuzz/$name" ] && seeds="$ROOT/tests/fuzz/$name"
    case "$name" in *parquet*)
        for d in "$ROOT/../shared/testdata/parquet-testing/data" "$ROOT/../shared/testdata/parquet-testing/bad_data" "$ROOT/../shared/testdata/oracle-generated"; do
            [ -d "$d" ] && seeds="$seeds $d"
        done;;
    esac
    echo "== fuzz $name for ${SECS}s"
    # shellcheck disable=SC2086
    "$f" -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$work/" -print_final_stats=0 "$work/corpus" $seeds \
        >"$work/log" 2>&1 || { tail -40 "$work/log"; echo "fuzz $name: FAILED (artifact in $work)"; exit 1; }
    grep -E '^(#[0-9]+ *DONE|Done)' "$work/log" | tail -1 || true
done
[ $found -eq 1 ] || echo "fuzz: no targets built"
