#!/usr/bin/env node
// duckdb_scan.mjs — the DuckDB peer of bench/data_io: times a full scan of a
// Parquet file that decodes every value of the chosen columns.
//
// usage: node duckdb_scan.mjs FILE [col,col,...] [--runs N]
//   env MANTA_ORACLE_DIR: the installed oracle (default: ../../build/oracle
//   relative to this script), whose node_modules holds @duckdb/node-api.
//
// Work: SELECT sum(c) for each numeric column and count_if(c) for BOOLEAN
// columns FROM read_parquet(FILE), on one thread (threads=1). An aggregate over
// every column forces DuckDB to decode every value without materialising rows
// in JavaScript, so the time is DuckDB's own scan; bench/data_io does the same
// sums over the arrays it reads. Prints the best of N runs (default 5),
// measured inside the process (node start-up and DuckDB open excluded):
//   seconds: 0.123
//   sums: [...]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 5;
const [file, cols] = args;
if (!file || !(runs > 0)) {
  console.error('usage: node duckdb_scan.mjs FILE [col,col,...] [--runs N]');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const oracle = process.env.MANTA_ORACLE_DIR || path.join(here, '..', '..', 'build', 'oracle');
const req = createRequire(path.join(oracle, 'package.json'));
const api = await import(pathToFileURL(req.resolve('@duckdb/node-api')).href);

const inst = await api.DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();
const lit = `'${file.replaceAll("'", "''")}'`;
const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${lit})`)).getRows();
const want = cols ? cols.split(',') : desc.map((r) => r[0]);
const types = Object.fromEntries(desc.map((r) => [r[0], String(r[1])]));
const q = (n) => `"${n.replaceAll('"', '""')}"`;
const exprs = want.map((n) => {
  if (!(n in types)) { console.error(`duckdb_scan: no column ${n}`); process.exit(1); }
  return types[n] === 'BOOLEAN' ? `count_if(${q(n)})` : `sum(${q(n)})`;
});
const sql = `SELECT ${exprs.join(', ')} FROM read_parquet(${lit})`;
let best = Infinity;
let sums = null;
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  const res = await con.runAndReadAll(sql);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (s < best) best = s;
  sums = res.getRows()[0].map((v) => Number(v));
}
console.log(`seconds: ${best}`);
console.log(`sums: ${JSON.stringify(sums)}`);
