// The features operator's changelog values: JSON (the default) against its state codec
// (featureStateCodec, in the engine's binary frame), encoded and decoded as a node writes and
// restores them (engine/state-codec.ts), for 5,000 real feature states: snapshots of the bundled
// tickers' replays (models/daily-csv.ts), 100 per ticker. Rounds alternate which goes first;
// medians of wall time and of this process's CPU time (steadier on a shared machine). Issue 15:
// on Kafka each changed symbol's state is written every commit.
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { decodeChangelogEntry, encodeChangelogEntry, type StateCodec } from '../engine/state-codec.js';
import { barOf, parseDailyCsv, tickerFromFileName } from '../models/daily-csv.js';
import { createFeatureState, type FeatureState, featureStateCodec, updateFeatures } from '../models/features.js';
import { median } from './counting-store.js';
import { printMetrics, round } from './report.js';

const STATES = Number(process.env.BENCH_STATES ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

const load = () => loadavg().map((x) => round(x, 2));
const loadAtStart = load();

// Real states: each ticker's replay, snapshotted at evenly spaced bars past the longest warm-up.
const DIR = new URL('../data/sp500-daily/', import.meta.url).pathname;
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.csv'))
  .sort();
const perTicker = Math.ceil(STATES / files.length);
const states: FeatureState[] = [];
for (const file of files) {
  const bars = parseDailyCsv(readFileSync(join(DIR, file)), tickerFromFileName(file), () => {}).map(barOf);
  const every = Math.max(1, Math.floor((bars.length - 100) / perTicker));
  const st = createFeatureState();
  bars.forEach((bar, i) => {
    updateFeatures(st, bar);
    if (i >= 100 && (i - 100) % every === 0 && states.length < STATES) states.push(structuredClone(st));
  });
}
if (states.length < STATES) throw new Error(`only ${states.length} states from ${files.length} tickers`);
process.stderr.write(`${states.length} feature states from ${files.length} tickers\n`);

const codecs = [
  { name: 'json', codec: undefined },
  { name: 'codec', codec: featureStateCodec as StateCodec<unknown> },
] as const;
type Name = (typeof codecs)[number]['name'];
const NO_TIMERS: number[] = [];

interface Round {
  encodeMs: number;
  decodeMs: number;
  encodeCpuMs: number;
  decodeCpuMs: number;
  bytes: number;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

function measure(codec: StateCodec<unknown> | undefined): Round {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const values = states.map((s) => encodeChangelogEntry(s, NO_TIMERS, codec)!);
  const t1 = performance.now();
  const encodeCpuMs = cpuMs(c0);
  const c1 = process.cpuUsage();
  let check = 0;
  for (const v of values) check += (decodeChangelogEntry(v, codec).s as FeatureState).count;
  const t2 = performance.now();
  const decodeCpuMs = cpuMs(c1);
  if (check === 0) throw new Error('nothing decoded');
  const bytes = values.reduce((n, v) => n + v.length, 0) / values.length;
  return { encodeMs: t1 - t0, decodeMs: t2 - t1, encodeCpuMs, decodeCpuMs, bytes };
}

const results = new Map<Name, Round[]>(codecs.map((c) => [c.name, []]));
measure(undefined); // warm-up of both paths (JIT), not counted
measure(featureStateCodec as StateCodec<unknown>);
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? codecs : [...codecs].reverse();
  for (const { name, codec } of order) results.get(name)!.push(measure(codec));
}

const summary = (name: Name) => {
  const rs = results.get(name)!;
  return {
    encodeMs: round(median(rs.map((r) => r.encodeMs))),
    decodeMs: round(median(rs.map((r) => r.decodeMs))),
    encodeCpuMs: round(median(rs.map((r) => r.encodeCpuMs))),
    decodeCpuMs: round(median(rs.map((r) => r.decodeCpuMs))),
    bytesPerState: Math.round(rs[0]!.bytes),
  };
};
const json = summary('json');
const codec = summary('codec');
const loadAtEnd = load();
const ratio = {
  encodeCpu: round(codec.encodeCpuMs / json.encodeCpuMs, 3),
  decodeCpu: round(codec.decodeCpuMs / json.decodeCpuMs, 3),
  encode: round(codec.encodeMs / json.encodeMs, 3),
  decode: round(codec.decodeMs / json.decodeMs, 3),
};

printMetrics([
  [`JSON encode, ${STATES} states (ms, median)`, String(json.encodeMs), ''],
  [`codec encode, ${STATES} states (ms, median)`, String(codec.encodeMs), '< JSON'],
  [`JSON decode, ${STATES} states (ms, median)`, String(json.decodeMs), ''],
  [`codec decode, ${STATES} states (ms, median)`, String(codec.decodeMs), '< JSON'],
  [`JSON encode, ${STATES} states (CPU ms, median)`, String(json.encodeCpuMs), ''],
  [`codec encode, ${STATES} states (CPU ms, median)`, String(codec.encodeCpuMs), '< JSON'],
  [`JSON decode, ${STATES} states (CPU ms, median)`, String(json.decodeCpuMs), ''],
  [`codec decode, ${STATES} states (CPU ms, median)`, String(codec.decodeCpuMs), '< JSON'],
  ['JSON bytes per state', String(json.bytesPerState), ''],
  ['codec bytes per state', String(codec.bytesPerState), '< JSON'],
  ['encode: codec / JSON (CPU)', String(ratio.encodeCpu), '< 1'],
  ['decode: codec / JSON (CPU)', String(ratio.decodeCpu), '< 1'],
  ['encode: codec / JSON (wall)', String(ratio.encode), '< 1'],
  ['decode: codec / JSON (wall)', String(ratio.decode), '< 1'],
  ['load average (1, 5, 15 min) at start', loadAtStart.join(' '), ''],
  ['load average (1, 5, 15 min) at end', loadAtEnd.join(' '), ''],
]);
console.log(
  JSON.stringify({
    states: STATES,
    rounds: ROUNDS,
    json,
    codec,
    ratio,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
  }),
);
