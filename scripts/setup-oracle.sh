#!/bin/sh
# Installs the independent Parquet oracle (DuckDB + arrow-rs, in Node) into
# DEST (default build/oracle) from the shared tools folder, which is read-only:
# the folder is copied and `npm ci` runs in the copy. Idempotent. When the
# shared folder or npm is missing it says so and exits 0: tests that need the
# oracle then report themselves skipped.
set -eu
DEST=${1:-build/oracle}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=${MANTA_ORACLE_SRC:-$ROOT/../shared/tools/parquet-oracle}
if [ ! -f "$SRC/package.json" ]; then
    echo "setup-oracle: $SRC not found; oracle-based checks will be skipped"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "setup-oracle: npm not installed; oracle-based checks will be skipped"
    exit 0
fi
if [ -f "$DEST/.installed" ] && cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json"; then
    exit 0
fi
mkdir -p "$DEST"
cp -R "$SRC"/. "$DEST"/
rm -f "$DEST/.installed"
(cd "$DEST" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
    echo "setup-oracle: npm ci failed; oracle-based checks will be skipped"
    exit 0
}
touch "$DEST/.installed"
echo "setup-oracle: installed in $DEST"
