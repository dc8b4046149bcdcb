#!/bin/sh
# Installs the Debian packages Manta needs to build, test and benchmark.
# Idempotent: when every package is already present it does nothing.
set -eu
PKGS="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
libuv1-dev libprotobuf-c-dev protobuf-c-compiler
libzstd-dev libsnappy-dev liblz4-dev libbrotli-dev zlib1g-dev libdeflate-dev
libcriterion-dev libjansson-dev libsqlite3-dev libxxhash-dev nodejs npm
python3-distributed python3-dask python3-numpy python3-pandas iproute2"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node/npm may come from a non-Debian install; accept any working one.
case "$missing" in *nodejs*|*npm*)
    if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
        missing=$(echo "$missing" | sed 's/ nodejs//; s/ npm//')
    fi;;
esac
[ -z "$(echo "$missing" | tr -d ' ')" ] && exit 0
echo "install-deps: installing$missing"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
