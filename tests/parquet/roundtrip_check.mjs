#!/usr/bin/env node
// Round-trip checker for test_roundtrip_oracle.sh: reads every file of a
// manifest with both oracle engines (DuckDB and arrow-rs) in one process and
// compares the rows, by value, with a reference NDJSON file and with what
// manta itself read back.
//
// usage: node roundtrip_check.mjs ORACLE_DIR MANIFEST
//   MANIFEST lines: PARQUET<TAB>REFERENCE.ndjson<TAB>MANTA.ndjson
// Prints one line per mismatch (file, reader, row, column, values) and exits 1
// if there was any; prints "ok N files" otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [oracleDir, manifest] = process.argv.slice(2);
const { readDuck, readWasm } = await import(pathToFileURL(path.join(oracleDir, 'lib', 'engines.mjs')).href);

const readNdjson = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l));

const SPECIAL = new Set(['NaN', 'Infinity', '-Infinity', '-0']);
// Numbers compare by value: 1.5 equals "1.5" and "1.50"; NaN/±Infinity/-0 by name.
function numeric(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && !SPECIAL.has(v) && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v)) return Number(v);
  return undefined;
}

function same(a, b) {
  if (a === b) return true;
  if (a === null || b === null) return false;
  const na = numeric(a), nb = numeric(b);
  if (na !== undefined && nb !== undefined) {
    if (typeof a === 'string' && typeof b === 'string' && /^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return BigInt(a) === BigInt(b);
    return na === nb;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]));
  }
  return false;
}

let bad = 0, files = 0;
function compare(file, reader, rows, ref) {
  if (rows.length !== ref.length) {
    console.log(`${file}: ${reader}: ${rows.length} rows, expected ${ref.length}`);
    bad++;
    return;
  }
  for (let i = 0; i < ref.length; i++) {
    if (same(rows[i], ref[i])) continue;
    const cols = Object.keys(ref[i]).filter((k) => !same(rows[i][k], ref[i][k]));
    const c = cols[0] ?? '(columns)';
    console.log(`${file}: ${reader}: row ${i} column ${c}: got ${JSON.stringify(rows[i][c])}, expected ${JSON.stringify(ref[i][c])}`);
    bad++;
    return;
  }
}

for (const line of fs.readFileSync(manifest, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const [file, refFile, mantaFile] = line.split('\t');
  const ref = readNdjson(refFile);
  files++;
  for (const [name, read] of [['duckdb', readDuck], ['wasm', readWasm]]) {
    try {
      const out = await read(file, { limit: Infinity, offset: 0, columns: null });
      compare(file, name, [...out.rows()], ref);
    } catch (e) {
      console.log(`${file}: ${name}: error: ${String(e && e.message ? e.message : e).split('\n')[0]}`);
      bad++;
    }
  }
  compare(file, 'manta', readNdjson(mantaFile), ref);
}
if (bad) {
  console.log(`FAIL: ${bad} mismatches in ${files} files`);
  process.exit(1);
}
console.log(`ok ${files} files`);
