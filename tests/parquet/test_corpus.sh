#!/bin/sh
# test_corpus.sh — Parquet conformance over the whole shared test corpus.
# Owns: running `manta data cat FILE --format jsonl` (and `manta data count`)
# on every corpus file and checking it against the verdict recorded in
# corpus_expectations.tsv next to this script. Runs single-threaded under
# CTest (env MANTA_BIN, MT_SOURCE_DIR, optional MT_BINARY_DIR).
# Invariants: every corpus file has exactly one row in the table (else FAIL);
# every manta run is under `timeout` so a hang is a failure, not a stall;
# prints one line per file and `corpus: N passed, M failed`; exit 1 on any
# failure, 0 (with SKIP) when the corpus or node is missing.
# Check tokens: see docs/parquet-conformance.md.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${MT_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
CORPUS=$ROOT/../shared/testdata
TSV=$HERE/corpus_expectations.tsv
CMP=$HERE/corpus_compare.mjs
TO=${CORPUS_TIMEOUT:-20}

if [ ! -d "$CORPUS/parquet-testing" ]; then
    echo "SKIP: corpus not found at $CORPUS"; exit 77
fi
if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node not found"; exit 77
fi
MANTA=${MANTA_BIN:-}
if [ -z "$MANTA" ] || [ ! -x "$MANTA" ]; then
    echo "FAIL: MANTA_BIN is not set to an executable"; exit 1
fi
ORACLE=""
for d in "${MT_BINARY_DIR:-/nonexistent}/oracle" "$ROOT/build/oracle"; do
    [ -f "$d/read.mjs" ] && [ -d "$d/node_modules" ] && { ORACLE=$d; break; }
done

TMP=$(mktemp -d -t manta-corpus.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
set -f
passed=0
failed=0
FAILS=$TMP/fails
: >"$FAILS"

ok=1
fail() { # file reason; counts each file once
    echo "FAIL $1: $2"
    echo "$1: $2" >>"$FAILS"
    [ "$ok" -eq 1 ] && failed=$((failed + 1))
    ok=0
}

# run_manta OUT ERR ENV... -- ARGS...: runs manta with the reader's tunables
# at their defaults (unless ENV sets them) and a timeout; sets rc.
run_manta() {
    out=$1; err=$2; shift 2
    envs=""
    while [ "$1" != "--" ]; do envs="$envs $1"; shift; done
    shift
    # shellcheck disable=SC2086
    env -u MANTA_PARQUET_VERIFY_CRC -u MANTA_PARQUET_MAX_PAGE_BYTES $envs \
        timeout "$TO" "$MANTA" "$@" </dev/null >"$out" 2>"$err"
    rc=$?
}

describe_rc() { # rc
    case $1 in
        124) echo "timed out after ${TO}s" ;;
        0) echo "exit 0" ;;
        *) if [ "$1" -gt 128 ]; then echo "killed by signal $(($1 - 128)) (crash)"; else echo "exit $1"; fi ;;
    esac
}

first_line() { head -n 1 "$1" | cut -c 1-200; }

# cat_ok FILE REL ENV...: runs data cat, fails unless exit 0; output in $TMP/out.jsonl.
cat_ok() {
    f=$1; rel=$2; shift 2
    run_manta "$TMP/out.jsonl" "$TMP/err" "$@" -- data cat "$f" --format jsonl
    if [ "$rc" -ne 0 ]; then
        fail "$rel" "expected READ, got $(describe_rc "$rc"): $(first_line "$TMP/err")"
        return 1
    fi
    return 0
}

compare() { # rel ours truth label
    if ! msg=$(node "$CMP" "$3" "$4" 2>&1 </dev/null); then
        fail "$1" "${2}: $msg"
    fi
}

check_sha() { # f rel hex@engine
    want=${3%@*}; engine=${3#*@}
    got=$(node "$CMP" --digest "$TMP/out.jsonl" 2>&1)
    [ "$got" = "$want" ] && return
    if [ -n "$ORACLE" ] && timeout 120 node "$ORACLE/read.mjs" "$1" --engine "$engine" --ndjson --all \
            >"$TMP/oracle.jsonl" 2>/dev/null; then
        if msg=$(node "$CMP" "$TMP/out.jsonl" "$TMP/oracle.jsonl" 2>&1); then
            fail "$2" "rows equal the $engine oracle but not the recorded sha256 $want (got $got): check the table"
        else
            fail "$2" "vs $engine oracle: $msg"
        fi
    else
        fail "$2" "rows differ from the $engine oracle (sha256 $got, expected $want; install the oracle for a row diff)"
    fi
}

check_read() { # f rel checks
    cat_ok "$1" "$2" || return
    for tok in $3; do
        case $tok in
            jsonl) compare "$2" "vs expected jsonl" "$TMP/out.jsonl" "$EXPECTED" ;;
            ndjson=*) compare "$2" "vs ${tok#ndjson=}" "$TMP/out.jsonl" "$CORPUS/oracle-generated/${tok#ndjson=}" ;;
            csv=*) compare "$2" "vs ${tok#csv=}" "$TMP/out.jsonl" "$(dirname "$1")/${tok#csv=}" ;;
            ts-us=*)
                if ! msg=$(node "$CMP" --ts-us "${tok#ts-us=}" "$TMP/out.jsonl" 2>&1); then
                    fail "$2" "vs companion .md: $msg"
                fi ;;
            sha256=*) check_sha "$1" "$2" "${tok#sha256=}" ;;
            *) fail "$2" "unknown check token '$tok' in corpus_expectations.tsv" ;;
        esac
    done
}

check_reject() { # f rel checks
    run_manta "$TMP/out" "$TMP/rej_err" -- data cat "$1" --format jsonl
    if [ "$rc" -ne 1 ]; then
        fail "$2" "expected REJECT (exit 1), got $(describe_rc "$rc")$( [ -s "$TMP/rej_err" ] && echo ": $(first_line "$TMP/rej_err")")"
        return
    fi
    [ -s "$TMP/out" ] && fail "$2" "rejected but printed $(wc -l <"$TMP/out") line(s) on stdout"
    n=$(wc -l <"$TMP/rej_err")
    [ "$n" -eq 1 ] || fail "$2" "stderr must be exactly one line, got $n: $(first_line "$TMP/rej_err")"
    grep -Fq -- "$1" "$TMP/rej_err" || fail "$2" "error message does not name the file: $(first_line "$TMP/rej_err")"
    len=$(head -n 1 "$TMP/rej_err" | wc -c)
    [ "$len" -gt $((${#1} + 8)) ] || fail "$2" "error message gives no reason: $(first_line "$TMP/rej_err")"
    for tok in $3; do
        case $tok in
            error) ;;
            msg=*) # match the reason only: the path itself may contain the words
                line=$(head -n 1 "$TMP/rej_err")
                printf '%s\n' "${line%%"$1"*}${line#*"$1"}" | grep -Eiq -- "${tok#msg=}" ||
                fail "$2" "error message should match /${tok#msg=}/i: $(first_line "$TMP/rej_err")" ;;
            crc)
                if cat_ok "$1" "$2 (MANTA_PARQUET_VERIFY_CRC=0)" MANTA_PARQUET_VERIFY_CRC=0; then
                    compare "$2" "with MANTA_PARQUET_VERIFY_CRC=0, vs expected jsonl" "$TMP/out.jsonl" "$EXPECTED"
                fi ;;
            count=*)
                run_manta "$TMP/cnt" "$TMP/err" -- data count "$1"
                if [ "$rc" -ne 0 ]; then
                    fail "$2" "data count: $(describe_rc "$rc"): $(first_line "$TMP/err")"
                elif ! grep -Eq "(^|[^0-9])${tok#count=}([^0-9]|\$)" "$TMP/cnt"; then
                    fail "$2" "data count printed '$(first_line "$TMP/cnt")', expected ${tok#count=}"
                fi ;;
            *) fail "$2" "unknown check token '$tok' in corpus_expectations.tsv" ;;
        esac
    done
}

# 1. Coverage: every corpus file (companion .md/.csv/.json/.yaml/.txt/.ndjson
#    files are truth, not input) must have a row, and every row a file.
grep -v '^#' "$TSV" | cut -f 1 | sort >"$TMP/listed"
(cd "$CORPUS" && find parquet-testing oracle-generated -type f) |
    grep -Ev '\.(md|csv|json|yaml|txt|ndjson)$' | sort >"$TMP/present"
for rel in $(comm -23 "$TMP/present" "$TMP/listed"); do
    ok=1; fail "$rel" "corpus file has no row in corpus_expectations.tsv"
done
for rel in $(comm -13 "$TMP/present" "$TMP/listed"); do
    ok=1; fail "$rel" "row in corpus_expectations.tsv but no such corpus file"
done
dups=$(uniq -d "$TMP/listed")
ok=1
[ -z "$dups" ] || fail "corpus_expectations.tsv" "duplicate rows: $dups"

# 2. One check per row.
TAB=$(printf '\t')
while IFS="$TAB" read -r rel verdict how <&3; do
    case $rel in ''|'#'*) continue ;; esac
    ok=1
    f=$CORPUS/$rel
    checks=${how%%#*}
    sub=${rel#parquet-testing/}
    EXPECTED=$CORPUS/parquet-testing-expected/$(echo "$sub" | tr / _).jsonl
    if [ -f "$EXPECTED" ] && [ "$sub" != "$rel" ]; then
        case " $checks " in
            *" jsonl "*|*" crc "*) ;;
            *) fail "$rel" "has an expected jsonl but its row checks neither 'jsonl' nor 'crc'" ;;
        esac
    fi
    if [ ! -f "$f" ]; then
        continue # reported by the coverage pass
    fi
    case $verdict in
        read) check_read "$f" "$rel" "$checks" ;;
        reject) check_reject "$f" "$rel" "$checks" ;;
        *) fail "$rel" "verdict must be read or reject, got '$verdict'" ;;
    esac
    if [ "$ok" -eq 1 ]; then
        passed=$((passed + 1))
        echo "ok   $rel ($verdict)"
    fi
done 3<"$TSV"

if [ "$failed" -gt 0 ]; then
    echo "---- failures"
    cat "$FAILS"
fi
echo "corpus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
