#!/bin/sh
# test_csv_errors.sh — CLI-level checks that malformed CSV is refused with
# exit status 1, nothing on stdout, and exactly one stderr line of the form
# "manta: FILE:LINE[:COL]: reason". Owns only temporary files it creates.
# Runs single-threaded under CTest (env MANTA_BIN). Every manta run is under
# `timeout` so a hang fails the test instead of stalling CI.
set -u
MANTA=${MANTA_BIN:-}
if [ -z "$MANTA" ] || [ ! -x "$MANTA" ]; then
    echo "FAIL: MANTA_BIN is not set to an executable"; exit 1
fi
TMP=$(mktemp -d -t manta-csv-errors.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
passed=0
failed=0

fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# expect_error NAME EXPECTED_STDERR_LINE ARGS...: manta ARGS must exit 1,
# print nothing on stdout and exactly EXPECTED_STDERR_LINE on stderr.
expect_error() {
    name=$1; want=$2; shift 2
    timeout 20 "$MANTA" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne 1 ]; then
        fail "$name" "exit $rc (want 1); stderr: $(head -n 1 "$TMP/err")"
        return
    fi
    if [ -s "$TMP/out" ]; then
        fail "$name" "stdout not empty: $(head -n 1 "$TMP/out")"
        return
    fi
    got=$(cat "$TMP/err")
    if [ "$got" != "$want" ]; then
        fail "$name" "stderr
    got:  $got
    want: $want"
        return
    fi
    passed=$((passed + 1))
    echo "ok   $name"
}

# A failed convert must not leave a (partial) output file behind.
expect_no_file() {
    if [ -e "$1" ]; then fail "$2" "failed convert left $1 behind"; else passed=$((passed + 1)); echo "ok   $2"; fi
}

# Unterminated quote: reported at the opening quote (line 3, byte column 3).
printf 'a,b\n1,2\n3,"four\n5,6\n' >"$TMP/unterminated.csv"
expect_error "unterminated quote (cat)" \
    "manta: $TMP/unterminated.csv:3:3: unterminated quoted field" \
    data cat "$TMP/unterminated.csv"
expect_error "unterminated quote (convert)" \
    "manta: $TMP/unterminated.csv:3:3: unterminated quoted field" \
    data convert "$TMP/unterminated.csv" "$TMP/unterminated.parquet"
expect_no_file "$TMP/unterminated.parquet" "no output after a failed convert (unterminated quote)"

# Ragged rows: a short row and a long row, each named by its line.
printf 'a,b,c\n1,2,3\n4,5\n' >"$TMP/short.csv"
expect_error "ragged row (too few fields)" \
    "manta: $TMP/short.csv:3: expected 3 fields, found 2" \
    data cat "$TMP/short.csv"
printf 'a,b\n1,2\n3,4\n5,6,7\n' >"$TMP/long.csv"
expect_error "ragged row (too many fields)" \
    "manta: $TMP/long.csv:4: expected 2 fields, found 3" \
    data count "$TMP/long.csv"
# A quoted field spanning lines: the ragged record is still named by the line it starts on.
printf 'a,b\n"x\ny",1\n2\n' >"$TMP/multiline.csv"
expect_error "ragged row after a multi-line field" \
    "manta: $TMP/multiline.csv:4: expected 2 fields, found 1" \
    data cat "$TMP/multiline.csv"

# Stray quotes.
printf 'a,b\n1,x"y\n' >"$TMP/stray.csv"
expect_error "quote inside an unquoted field" \
    "manta: $TMP/stray.csv:2:4: quote inside unquoted field" \
    data cat "$TMP/stray.csv"
printf 'a,b\n1,"x"y\n' >"$TMP/after.csv"
expect_error "character after a closing quote" \
    "manta: $TMP/after.csv:2:6: unexpected character after closing quote" \
    data cat "$TMP/after.csv"

# Bad numbers under an explicit schema (convert --schema-from): the schema
# comes from a Parquet file converted from a well-formed CSV (a, b: int64).
printf 'a,b\n1,2\n3,4\n' >"$TMP/good.csv"
if timeout 20 "$MANTA" data convert "$TMP/good.csv" "$TMP/schema.parquet" </dev/null >/dev/null 2>"$TMP/err"; then
    printf 'a,b\n1,2\n3,x7\n' >"$TMP/badnum.csv"
    expect_error "bad integer under an explicit schema" \
        "manta: $TMP/badnum.csv:3:3: cannot parse 'x7' as int64 for column 'b'" \
        data convert "$TMP/badnum.csv" "$TMP/badnum.parquet" --schema-from "$TMP/schema.parquet"
    expect_no_file "$TMP/badnum.parquet" "no output after a failed convert (bad integer)"
    printf 'a,b\n1,2\n"12.5",4\n' >"$TMP/badnum2.csv"
    expect_error "quoted decimal under an int64 schema" \
        "manta: $TMP/badnum2.csv:3:1: cannot parse '12.5' as int64 for column 'a'" \
        data convert "$TMP/badnum2.csv" "$TMP/badnum2.parquet" --schema-from "$TMP/schema.parquet"
else
    fail "schema setup" "convert of a well-formed CSV failed: $(head -n 1 "$TMP/err")"
fi

echo "csv errors: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
