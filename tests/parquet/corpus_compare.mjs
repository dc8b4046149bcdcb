#!/usr/bin/env node
// corpus_compare.mjs — compares our `manta data cat --format jsonl` output with
// the truth for one corpus file, by value. Dependency-free (Node >= 18 only).
// Runs as a child of tests/parquet/test_corpus.sh, single-threaded.
// Invariants: exit 0 = equal, 1 = different (one line on stdout naming the
// first differing row/column with both values), 2 = usage or I/O error.
//
//   node corpus_compare.mjs OURS.jsonl EXPECTED.jsonl   rows by value
//   node corpus_compare.mjs OURS.jsonl EXPECTED.csv     header + rows, columns by position,
//                                                       empty unquoted field = null
//   node corpus_compare.mjs --digest OURS.jsonl          print sha256 of the normalised rows
//   node corpus_compare.mjs --ts-us COL:V1,V2,… OURS     column COL holds timestamps equal to
//                                                       these µs since the epoch (or null)
//
// "By value": each line is parsed as JSON; objects are compared key by key in
// order, arrays element by element, numbers with ===, strings exactly. The
// expected files come from JavaScript (shortest round-trip floats), so a C
// printer that prints 1.1000000238418579 for a float32 still matches.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

function die(msg, code) {
  process.stdout.write(msg + '\n');
  process.exit(code);
}

function short(v) {
  const s = v === undefined ? '(missing)' : JSON.stringify(v);
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

function readLines(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    die(`cannot read ${path}: ${e.message}`, 2);
  }
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function parseRows(path, who) {
  return readLines(path).map((line, i) => {
    try {
      return JSON.parse(line);
    } catch (e) {
      die(`${who} row ${i}: not valid JSON (${e.message}): ${short(line)}`, 1);
    }
  });
}

// Returns null when equal, else {path, a, b}.
function diff(a, b, path) {
  if (a === b) return null;
  if (a === null || b === null || typeof a !== typeof b) return { path, a, b };
  if (typeof a === 'number') return Object.is(a, b) || a === b ? null : { path, a, b };
  if (typeof a !== 'object') return { path, a, b };
  if (Array.isArray(a) !== Array.isArray(b)) return { path, a, b };
  if (Array.isArray(a)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i >= a.length || i >= b.length)
        return { path: `${path}[${i}]`, a: a[i], b: b[i], note: `length ${a.length} vs ${b.length}` };
      const d = diff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  const n = Math.max(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    if (ka[i] !== kb[i]) {
      return { path: path || '(row)', a: ka, b: kb, note: `key #${i} is ${short(ka[i])}, expected ${short(kb[i])}` };
    }
    const d = diff(a[ka[i]], b[kb[i]], path ? `${path}.${ka[i]}` : ka[i]);
    if (d) return d;
  }
  return null;
}

function report(row, d) {
  const note = d.note ? ` (${d.note})` : '';
  die(`row ${row}, column ${d.path}${note}: ours ${short(d.a)}, expected ${short(d.b)}`, 1);
}

function compareJsonl(ours, expectedPath) {
  const exp = parseRows(expectedPath, 'expected');
  for (let i = 0; i < Math.min(ours.length, exp.length); i++) {
    const d = diff(ours[i], exp[i], '');
    if (d) report(i, d);
  }
  if (ours.length !== exp.length) die(`row count: ours ${ours.length}, expected ${exp.length}`, 1);
}

// Minimal RFC 4180 reader; an unquoted empty field becomes null.
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false, wasQuoted = false, i = 0;
  const endField = () => { row.push(field === '' && !wasQuoted ? null : field); field = ''; wasQuoted = false; };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"') { quoted = true; wasQuoted = true; i++; continue; }
    if (c === ',') { endField(); i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { i++; continue; }
    if (c === '\n') { endField(); rows.push(row); row = []; i++; continue; }
    field += c; i++;
  }
  if (field !== '' || wasQuoted || row.length) { endField(); rows.push(row); }
  return rows;
}

function csvCell(ours, cell) {
  if (cell === null) return ours === null;
  if (typeof ours === 'string') return ours === cell;
  if (typeof ours === 'number') return ours === Number(cell);
  if (typeof ours === 'boolean') return String(ours) === cell;
  return false;
}

function compareCsv(ours, expectedPath) {
  let text;
  try { text = readFileSync(expectedPath, 'utf8'); } catch (e) { die(`cannot read ${expectedPath}: ${e.message}`, 2); }
  const [header, ...rows] = parseCsv(text);
  for (let r = 0; r < Math.min(ours.length, rows.length); r++) {
    const keys = Object.keys(ours[r]);
    if (keys.length !== header.length)
      die(`row ${r}: ours has ${keys.length} columns, ${expectedPath} has ${header.length}`, 1);
    for (let c = 0; c < header.length; c++) {
      if (!csvCell(ours[r][keys[c]], rows[r][c]))
        die(`row ${r}, column ${keys[c]} (csv column ${c} ${short(header[c])}): ours ${short(ours[r][keys[c]])}, expected ${short(rows[r][c])}`, 1);
    }
  }
  if (ours.length !== rows.length) die(`row count: ours ${ours.length}, expected ${rows.length} (csv)`, 1);
}

// "YYYY…-MM-DDTHH:MM:SS[.f]" (any year width, optional sign, optional Z) → µs
// since the epoch as a BigInt, or undefined when it does not parse or has
// sub-microsecond digits that are not zero.
function timestampMicros(s) {
  const m = /^([+-]?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z?$/.exec(s);
  if (!m) return undefined;
  const frac = (m[7] || '').padEnd(6, '0');
  if (/[^0]/.test(frac.slice(6))) return undefined;
  const y = BigInt(m[1]), mo = BigInt(m[2]), d = BigInt(m[3]);
  // days from civil (Howard Hinnant), proleptic Gregorian, BigInt throughout
  const yy = mo <= 2n ? y - 1n : y;
  const era = (yy >= 0n ? yy : yy - 399n) / 400n;
  const yoe = yy - era * 400n;
  const mp = (mo + 9n) % 12n;
  const doy = (153n * mp + 2n) / 5n + d - 1n;
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  const days = era * 146097n + doe - 719468n;
  const secs = days * 86400n + BigInt(m[4]) * 3600n + BigInt(m[5]) * 60n + BigInt(m[6]);
  return secs * 1000000n + BigInt(frac.slice(0, 6));
}

function compareTimestamps(ours, spec) {
  const colon = spec.indexOf(':');
  if (colon < 1) die(`bad --ts-us spec ${spec}`, 2);
  const col = spec.slice(0, colon);
  const want = spec.slice(colon + 1).split(',');
  if (ours.length !== want.length) die(`row count: ours ${ours.length}, expected ${want.length}`, 1);
  for (let r = 0; r < want.length; r++) {
    const v = ours[r][col];
    if (want[r] === 'null') {
      if (v !== null) die(`row ${r}, column ${col}: ours ${short(v)}, expected null`, 1);
      continue;
    }
    const us = typeof v === 'string' ? timestampMicros(v) : undefined;
    if (us !== BigInt(want[r]))
      die(`row ${r}, column ${col}: ours ${short(v)} (= ${us === undefined ? 'not a timestamp' : us + ' µs'}), expected ${want[r]} µs since the epoch`, 1);
  }
}

function digest(rows) {
  const h = createHash('sha256');
  for (const r of rows) h.update(JSON.stringify(r) + '\n');
  return h.digest('hex');
}

const args = process.argv.slice(2);
if (args[0] === '--digest' && args.length === 2) {
  process.stdout.write(digest(parseRows(args[1], 'ours')) + '\n');
} else if (args[0] === '--ts-us' && args.length === 3) {
  compareTimestamps(parseRows(args[2], 'ours'), args[1]);
} else if (args.length === 2 && !args[0].startsWith('--')) {
  const ours = parseRows(args[0], 'ours');
  if (args[1].endsWith('.csv')) compareCsv(ours, args[1]);
  else compareJsonl(ours, args[1]);
} else {
  die('usage: corpus_compare.mjs OURS EXPECTED(.jsonl|.ndjson|.csv) | --digest OURS | --ts-us COL:V,… OURS', 2);
}
