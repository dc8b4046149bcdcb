#!/bin/sh
# test_cli.sh — `manta data …` end to end: exact output of every subcommand on
# small files, exit codes (0 ok, 1 data error, 2 usage) and one-line messages,
# convert round trips and gen-taxi determinism. Needs MANTA_BIN, MT_SOURCE_DIR.
set -u
M=${MANTA_BIN:?MANTA_BIN not set}
PQ=${MT_SOURCE_DIR:?MT_SOURCE_DIR not set}/../shared/testdata/parquet-testing/data
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fails=0

fail() { printf 'FAIL: %s\n' "$*" >&2; fails=$((fails + 1)); }

# expect NAME RC STDOUT STDERR CMD... — STDOUT/STDERR "-" means "don't care".
expect() {
    name=$1 rc=$2 out=$3 err=$4
    shift 4
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    [ "$got" = "$rc" ] || fail "$name: exit $got, want $rc; stderr: $(cat "$T/err")"
    if [ "$out" != "-" ] && [ "$(cat "$T/out")" != "$out" ]; then
        fail "$name: stdout was
$(cat "$T/out")
want
$out"
    fi
    if [ "$err" != "-" ] && [ "$(cat "$T/err")" != "$err" ]; then
        fail "$name: stderr was
$(cat "$T/err")
want
$err"
    fi
}

# ---- help -------------------------------------------------------------------
expect "manta --help" 0 - "" "$M" --help
grep -q "data" "$T/out" || fail "manta --help does not list data"
expect "data --help" 0 - "" "$M" data --help
for sub in schema count show cat meta convert gen-taxi groupby; do
    grep -q "^  $sub " "$T/out" || fail "manta data --help does not list $sub"
done
expect "show --help" 0 - "" "$M" data show --help
grep -q "usage: manta data show FILE" "$T/out" || fail "show --help: $(cat "$T/out")"

# ---- CSV input ----------------------------------------------------------------
printf 'id,name,score\n1,ann,2.5\n2,bob,\n3,"c,d",4.25\n' >"$T/s.csv"
expect "schema csv" 0 "Column  Type
------  ----
id      int64
name    string
score   double" "" "$M" data schema "$T/s.csv"
expect "count csv" 0 "3" "" "$M" data count "$T/s.csv"
expect "show csv" 0 "{'id': 1, 'name': 'ann', 'score': 2.5}
{'id': 2, 'name': 'bob', 'score': None}
{'id': 3, 'name': 'c,d', 'score': 4.25}" "" "$M" data show "$T/s.csv"
expect "show -n 1 --columns" 0 "{'score': 2.5, 'id': 1}" "" "$M" data show "$T/s.csv" -n 1 --columns score,id
expect "show -n 0" 0 "" "" "$M" data show "$T/s.csv" -n 0
expect "cat jsonl" 0 '{"id":"1","name":"ann","score":2.5}
{"id":"2","name":"bob","score":null}
{"id":"3","name":"c,d","score":4.25}' "" "$M" data cat "$T/s.csv" --format jsonl
expect "cat csv" 0 'id,name,score
1,ann,2.5
2,bob,
3,"c,d",4.25' "" "$M" data cat "$T/s.csv" --format csv
expect "schema --columns" 0 "Column  Type
------  ----
name    string" "" "$M" data schema "$T/s.csv" --columns name

# ---- Parquet input --------------------------------------------------------------
AT=$PQ/alltypes_plain.parquet
expect "count parquet" 0 "8" "" "$M" data count "$AT"
expect "schema parquet" 0 "Column           Type
------           ----
id               int32
bool_col         bool
tinyint_col      int32
smallint_col     int32
int_col          int32
bigint_col       int64
float_col        float
double_col       double
date_string_col  binary
string_col       binary
timestamp_col    timestamp[us]" "" "$M" data schema "$AT"
expect "show parquet" 0 "{'id': 4, 'bool_col': True, 'double_col': 0.0}
{'id': 5, 'bool_col': False, 'double_col': 10.1}" "" \
    "$M" data show "$AT" -n 2 --columns id,bool_col,double_col
expect "cat parquet" 0 '{"id":4,"string_col":"0x30"}
{"id":5,"string_col":"0x31"}' "" sh -c "'$M' data cat '$AT' --columns id,string_col | head -n 2"
expect "meta parquet" 0 - "" "$M" data meta "$AT"
grep -q "timestamp_col" "$T/out" || fail "meta does not mention timestamp_col"

# ---- errors -------------------------------------------------------------------
expect "missing file" 1 "" "manta: $T/nope.parquet: No such file or directory" \
    "$M" data count "$T/nope.parquet"
printf 'this is not parquet at all, just text\n' >"$T/bad.parquet"
expect "not parquet" 1 "" - "$M" data schema "$T/bad.parquet"
case $(cat "$T/err") in "manta: $T/bad.parquet: "*) ;; *) fail "not parquet: $(cat "$T/err")" ;; esac
[ "$(wc -l <"$T/err")" = 1 ] || fail "not parquet: message is not one line"
expect "meta on csv" 1 "" - "$M" data meta "$T/s.csv"
case $(cat "$T/err") in "manta: $T/s.csv: "*) ;; *) fail "meta on csv: $(cat "$T/err")" ;; esac
expect "unknown column csv" 1 "" "manta: $T/s.csv: no column named 'zz' (columns: id, name, score)" \
    "$M" data show "$T/s.csv" --columns id,zz
expect "unknown column parquet" 1 "" - "$M" data cat "$AT" --columns nope
case $(cat "$T/err") in "manta: $AT: no column named 'nope' (columns: id, bool_col, "*) ;;
    *) fail "unknown column parquet: $(cat "$T/err")" ;; esac
expect "bad flag" 2 "" "manta: data show: unknown option '--bogus' (see 'manta data show --help')" \
    "$M" data show "$T/s.csv" --bogus
expect "bad -n" 2 "" "manta: data show: -n needs a non-negative row count, not 'x' (see 'manta data show --help')" \
    "$M" data show "$T/s.csv" -n x
expect "no file" 2 "" "manta: data count: missing input file (see 'manta data count --help')" "$M" data count
expect "bad format" 2 "" "manta: data cat: --format must be jsonl or csv, not 'xml' (see 'manta data cat --help')" \
    "$M" data cat "$T/s.csv" --format xml
expect "unknown sub" 2 "" "manta: data: unknown subcommand 'frob' (see 'manta data --help')" "$M" data frob
expect "bad output ext" 2 "" "manta: data convert: $T/x.txt: cannot tell the output format (use .parquet, .pq or .csv) (see 'manta data convert --help')" \
    "$M" data convert "$T/s.csv" "$T/x.txt"
expect "bad codec" 2 "" "manta: data convert: unknown codec 'zip' (none, snappy, gzip, brotli, zstd, lz4_raw) (see 'manta data convert --help')" \
    "$M" data convert "$T/s.csv" "$T/x.parquet" --codec zip
[ ! -e "$T/x.parquet" ] || fail "failed convert left a file behind"

# ---- convert round trips -----------------------------------------------------------
"$M" data cat "$T/s.csv" >"$T/s.jsonl"
expect "csv->parquet" 0 "" "" "$M" data convert "$T/s.csv" "$T/s.parquet"
expect "cat converted" 0 "$(cat "$T/s.jsonl")" "" "$M" data cat "$T/s.parquet"
expect "parquet->parquet" 0 "" "" "$M" data convert "$T/s.parquet" "$T/s2.pq" --codec zstd \
    --dictionary off --page-version 2 --page-size 64 --row-group-size 2
expect "cat rewritten" 0 "$(cat "$T/s.jsonl")" "" "$M" data cat "$T/s2.pq"
expect "parquet->csv" 0 "" "" "$M" data convert "$T/s2.pq" "$T/back.csv"
expect "csv again" 0 "$(cat "$T/s.jsonl")" "" "$M" data cat "$T/back.csv"
"$M" data cat "$AT" >"$T/at.jsonl"
expect "alltypes->gzip" 0 "" "" "$M" data convert "$AT" "$T/at.parquet" --codec gzip
expect "alltypes rewritten" 0 "$(cat "$T/at.jsonl")" "" "$M" data cat "$T/at.parquet"
ls "$T" | grep -q "tmp-" && fail "temporary files left: $(ls "$T")"

# ---- gen-taxi -------------------------------------------------------------------
expect "gen-taxi a" 0 "" "" "$M" data gen-taxi --rows 5000 --seed 1 --out "$T/a.parquet"
expect "gen-taxi b" 0 "" "" "$M" data gen-taxi --rows 5000 --seed 1 --out "$T/b.parquet"
expect "gen-taxi c" 0 "" "" "$M" data gen-taxi --rows 5000 --seed 2 --out "$T/c.parquet"
cmp -s "$T/a.parquet" "$T/b.parquet" || fail "gen-taxi: same seed gave different files"
cmp -s "$T/a.parquet" "$T/c.parquet" && fail "gen-taxi: different seeds gave the same file"
expect "taxi count" 0 "5000" "" "$M" data count "$T/a.parquet"
expect "taxi schema" 0 "Column           Type
------           ----
passenger_count  double
trip_distance    double
fare_amount      double
trip_duration    int64
hour             int64
day_of_week      int64
is_big_tip       bool" "" "$M" data schema "$T/a.parquet"
expect "gen-taxi chunks" 0 "" "" "$M" data gen-taxi --rows 5000 --seed 1 --row-group-size 999 \
    --codec none --out "$T/d.parquet"
"$M" data cat "$T/a.parquet" >"$T/a.jsonl"
expect "chunking-independent" 0 "$(cat "$T/a.jsonl")" "" "$M" data cat "$T/d.parquet"
expect "gen-taxi no out" 2 "" "manta: data gen-taxi: --out FILE is required (see 'manta data gen-taxi --help')" \
    "$M" data gen-taxi --rows 5

# ---- groupby -------------------------------------------------------------------
printf 'k,v\n2,4\n1,1\n2,6\n1,\n3,9\n' >"$T/g.csv"
expect "groupby" 0 "{'k': 1, 'mean(v)': 1.0}
{'k': 2, 'mean(v)': 5.0}
{'k': 3, 'mean(v)': 9.0}" "" "$M" data groupby "$T/g.csv" --key k --mean v
expect "groupby missing" 2 "" "manta: data groupby: --key and --mean are required (see 'manta data groupby --help')" \
    "$M" data groupby "$T/g.csv" --key k

# ---- node-daemon flags: out-of-range numbers are usage errors -----------------
# (they used to reach float-to-integer casts: undefined behaviour)
for v in inf 1e300 nan -1; do
    expect "node-daemon --num-cpus $v" 2 "" - "$M" node-daemon --num-cpus "$v"
    [ "$(head -n 1 "$T/err")" = "manta: node-daemon: bad number '$v'" ] ||
        fail "node-daemon --num-cpus $v: stderr $(head -n 1 "$T/err")"
done
expect "node-daemon --object-store-memory 1e30" 2 "" - "$M" node-daemon --object-store-memory 1e30
[ "$(head -n 1 "$T/err")" = "manta: node-daemon: bad integer '1e30'" ] ||
    fail "node-daemon --object-store-memory 1e30: stderr $(head -n 1 "$T/err")"

# ---- count agrees with the rows read when the footer's num_rows is wrong ----------
RNA=$PQ/repeated_no_annotation.parquet # footer: num_rows 0; its row group: 6
expect "count vs footer" 0 "6" "" "$M" data count "$RNA"
[ "$("$M" data cat "$RNA" | wc -l)" = 6 ] || fail "cat of $RNA does not give 6 rows"
"$M" data meta "$RNA" | grep -qx "num_rows: 6 (the footer says 0; its row groups hold 6)" ||
    fail "meta does not show the footer's claim"

# ---- names from files never reach the terminal raw; long string stats truncated ---
A100=$(printf 'a%.0s' $(seq 100))
E50=$(printf '\303\251%.0s' $(seq 50)) # é x 50 = 100 bytes
printf 'x\033[2Jy,s\n1,%s\n2,b%s\n3,%s\n' "$A100" "$A100" "$E50" >"$T/ctl.csv"
expect "schema escapes controls" 0 'Column     Type
------     ----
x\x1b[2Jy  int64
s          string' "" "$M" data schema "$T/ctl.csv"
expect "convert ctl" 0 "" "" "$M" data convert "$T/ctl.csv" "$T/ctl.parquet"
"$M" data meta "$T/ctl.parquet" >"$T/meta.txt"
grep -q "$(printf '\033')" "$T/meta.txt" && fail "meta printed a raw escape character"
grep -qxF "  column 'x\\x1b[2Jy' int64" "$T/meta.txt" || fail "meta column name: $(grep column "$T/meta.txt")"
A64=$(printf 'a%.0s' $(seq 64))
E31=$(printf '\303\251%.0s' $(seq 31))
grep -qF "statistics: min \"$A64\" max \"$E31$(printf '\303\252')\" null_count 0" "$T/meta.txt" ||
    fail "long string statistics not truncated to 64-byte bounds: $(grep statistics "$T/meta.txt")"
expect "truncated stats keep the data" 0 "$(printf '{"x\\u001b[2Jy":"1","s":"%s"}' "$A100")" - \
    sh -c "'$M' data cat '$T/ctl.parquet' | head -n 1"

# ---- every command answers --help (exit 0, usage on stdout) and --version ------
expect "--version" 0 "manta 0.1.0" "" "$M" --version
for c in "start" "stop" "status" "config" "data schema" "data count" "data show" "data cat" \
         "data meta" "data convert" "data gen-taxi" "data groupby"; do
    # shellcheck disable=SC2086
    expect "$c --help" 0 - "" "$M" $c --help
    grep -q "^usage: manta $c" "$T/out" || fail "$c --help: $(head -n 1 "$T/out")"
done

# ---- manta start/stop validate their flags before any daemon starts -------------
expect "start --num-cpus -1" 2 "" "manta start: bad --num-cpus '-1' (a number in [0, 9e13])" \
    "$M" start --head --temp-dir "$T/never" --num-cpus -1
expect "start --num-gpus abc" 2 "" "manta start: bad --num-gpus 'abc' (a number in [0, 9e13])" \
    "$M" start --head --temp-dir "$T/never" --num-gpus abc
expect "start --object-store-memory 1.5" 2 "" \
    "manta start: bad --object-store-memory '1.5' (a whole number of bytes)" \
    "$M" start --head --temp-dir "$T/never" --object-store-memory 1.5
expect "start --object-store-memory > RAM" 2 "" - \
    "$M" start --head --temp-dir "$T/never" --object-store-memory 1000000000000000000
grep -q "^manta start: --object-store-memory 1000000000000000000 is larger than this machine's memory" "$T/err" ||
    fail "start --object-store-memory > RAM: $(cat "$T/err")"
[ ! -e "$T/never" ] || fail "a refused start created its temp dir"
expect "stop --grace-period -3" 2 "" "manta stop: bad --grace-period '-3' (seconds in [0, 86400])" \
    "$M" stop --grace-period -3

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed" >&2
    exit 1
fi
echo "all CLI checks passed"
