#!/bin/sh
# An installed Manta works the documented way: `cmake --install` into a fresh
# prefix, a driver built with `pkg-config --cflags --libs manta` runs without
# LD_LIBRARY_PATH (rpath) and finds the installed manta beside libmanta
# (no MANTA_BIN, not on PATH), and job code built with `--cflags` only is
# dlopened by workers, where a task submits a task of its own.
set -eu
# A sanitizer build's libmanta.so needs its runtime loaded first: a plain
# driver cannot use it, so this runs in the normal build only.
[ "${MT_SANITIZE:-0}" = 1 ] && { echo "sanitizer build: skipped"; exit 77; }
command -v pkg-config >/dev/null 2>&1 || { echo "no pkg-config: skipped"; exit 77; }
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || { echo "no C compiler: skipped"; exit 77; }
TMP=$(mktemp -d)
cleanup() {
    pkill -9 -f "$TMP/" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; [ -f "$TMP/out.txt" ] && cat "$TMP/out.txt"; exit 1; }

cmake --install "$MT_BINARY_DIR" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; fail "cmake --install"; }
PC="$TMP/prefix/lib/pkgconfig"
[ -f "$PC/manta.pc" ] || PC=$(dirname "$(find "$TMP/prefix" -name manta.pc | head -n 1)")
export PKG_CONFIG_PATH="$PC"
pkg-config --exists manta || fail "pkg-config does not find the installed manta.pc"

cat >"$TMP/fns.c" <<'C'
#include <manta/manta.h>
static mt_status square(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t v;
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &v, err));
    return mt_return_i64(ctx, v * v, err);
}
MT_REMOTE(square)
/* submits square(x) from inside a worker and returns its result + 1 */
static mt_status square_plus_one(mt_task_ctx *ctx, const mt_arg *args, int nargs, mt_error *err)
{
    int64_t v;
    MT_RETURN_NOT_OK(mt_arg_i64(args, nargs, 0, &v, err));
    mt_ref *r;
    mt_arg a = MT_ARG_I64(v);
    MT_RETURN_NOT_OK(mt_task_submit("square", &a, 1, NULL, &r, err));
    mt_value val;
    mt_status st = mt_get(&r, 1, -1, &val, err);
    mt_ref_release(r);
    if (st != MT_OK) return st;
    int64_t sq = *(const int64_t *)val.data;
    mt_value_release(&val);
    return mt_return_i64(ctx, sq + 1, err);
}
MT_REMOTE(square_plus_one)
C
cat >"$TMP/driver.c" <<'C'
#include <manta/manta.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    mt_error err;
    if (argc < 2 || mt_init_ex(&(mt_init_options){.code_path = argv[1]}, &err) != MT_OK) {
        fprintf(stderr, "init: %s\n", argc < 2 ? "usage" : err.msg);
        return 1;
    }
    mt_arg a = MT_ARG_I64(7);
    mt_ref *r;
    mt_value v;
    if (mt_task_submit("square_plus_one", &a, 1, NULL, &r, &err) != MT_OK || mt_get(&r, 1, -1, &v, &err) != MT_OK) {
        fprintf(stderr, "task: %s\n", err.msg);
        mt_shutdown();
        return 1;
    }
    printf("square_plus_one(7) = %lld\n", (long long)*(const int64_t *)v.data);
    mt_value_release(&v);
    mt_ref_release(r);
    mt_shutdown();
    return 0;
}
C
# shellcheck disable=SC2046
$CC -O1 -fPIC -shared -o "$TMP/libfns.so" "$TMP/fns.c" $(pkg-config --cflags manta) || fail "job code does not build"
# shellcheck disable=SC2046
$CC -O1 -o "$TMP/driver" "$TMP/driver.c" $(pkg-config --cflags --libs manta) || fail "driver does not build"

# A clean environment: no build tree on PATH, no MANTA_BIN, no library path.
unset MANTA_BIN LD_LIBRARY_PATH MANTA_ADDRESS
mkdir -p "$TMP/t"
env PATH=/usr/bin:/bin MANTA_TEMP_DIR="$TMP/t" "$TMP/driver" "$TMP/libfns.so" >"$TMP/out.txt" 2>&1 || fail "installed driver"
grep -qx 'square_plus_one(7) = 50' "$TMP/out.txt" || fail "wrong result"
if pgrep -f "$TMP/" >/dev/null 2>&1; then fail "cluster processes left behind"; fi
echo "install: ok"
