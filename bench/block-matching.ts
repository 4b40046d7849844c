import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as btc from '@scure/btc-signer';
import { detect } from '../src/chains/bitcoin/detect.ts';
import { decodeBlockHex } from '../src/chains/bitcoin/raw-block.ts';
import { WatchSet } from '../src/chains/bitcoin/watch-set.ts';
import { type Row, row } from './lib.ts';
import { randomWatchedAddresses, syntheticBlock } from './synthetic-block.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WATCHED = 1_000_000;
const OUTPUTS = 10_000;
const WATCHED_SHARE = 0.01;

/**
 * A forced garbage collection, so heap figures are what is retained rather than what the collector
 * has not got to yet. `npm run bench` runs node without --expose-gc (the script is shared with other
 * areas), so the flag is set at runtime and the function taken from a fresh context, where V8 installs
 * it; with --expose-gc given, global.gc is used as is.
 */
function forcedGc(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

function heapUsed(gc: (() => void) | null): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * Repetitions of `work` per second over `seconds`, after one untimed warm-up call and a collection
 * (so a collector still marking the million-entry maps does not land in one phase only).
 */
function timesPerSecond(seconds: number, gc: (() => void) | null, work: () => unknown): number {
  work();
  gc?.();
  const start = performance.now();
  const end = start + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    work();
    n += 1;
  }
  return n / ((performance.now() - start) / 1000);
}

/**
 * Matching one block against a large watch set: detect() alone and decode + detect from the raw
 * hex, each in outputs/s beside a plain Map lookup over the same scripts (what matching costs at
 * the least); and the watch set's memory and load time for 1,000,000 addresses.
 */
export async function benchBlockMatching(): Promise<Row[]> {
  const gc = forcedGc();
  const gcNote = gc ? 'gc forced' : 'no gc available: process.memoryUsage deltas';
  const generated = randomWatchedAddresses(WATCHED);
  const { programs } = generated;
  const { addresses } = generated;

  // Option ids shaped like real ones (opt_ + 26 base32 characters) but cut from the random
  // programs: newId() costs ~2 µs, seconds for a million, and the value does not matter here. Built
  // in a byte buffer so each is a flat string like a database driver's (a `+` concatenation would
  // make a V8 cons string, of another size).
  const idBytes = Buffer.from('opt_'.padEnd(30, '0'), 'latin1');
  const alphabet = Buffer.from('0123456789abcdefghjkmnpqrstvwxyz', 'latin1');
  const idFor = (i: number) => {
    for (let k = 0; k < 26; k++)
      idBytes[4 + k] = alphabet[(programs[20 * i + (k % 20)] as number) & 31] as number;
    return idBytes.toString('latin1');
  };
  // Retained by the watch set: the Map, its script keys and the option ids (in production the ids
  // come from database rows that are dropped after loading, so they count here).
  const before = heapUsed(gc);
  const watchSet = new WatchSet('bitcoin-regtest');
  let start = performance.now();
  for (let i = 0; i < WATCHED; i++) watchSet.add(addresses[i] as string, idFor(i));
  const loadMs = performance.now() - start;
  const after = heapUsed(gc);
  // Read after `after` so V8 keeps the addresses alive through it, as they were in `before` (it
  // frees a local that is never read again): the delta is then the watch set alone.
  if (addresses.length !== watchSet.size) throw new Error('duplicate random programs');

  // Baseline: the same keys straight from bytes, no address decoding or validation.
  const plain = new Map<string, string>();
  const script = Buffer.from([0x00, 0x14, ...new Array<number>(20).fill(0)]);
  start = performance.now();
  for (let i = 0; i < WATCHED; i++) {
    programs.copy(script, 2, 20 * i, 20 * i + 20);
    plain.set(script.toString('hex'), idFor(i));
  }
  const plainLoadMs = performance.now() - start;

  const block = syntheticBlock(OUTPUTS, WATCHED_SHARE, programs);
  const decoded = decodeBlockHex(block.hex);
  // Guard: a wrongly serialized block would make every figure meaningless.
  const check = btc.Transaction.fromRaw(Buffer.from(block.sampleTxHex, 'hex'), {
    allowUnknownOutputs: true,
    disableScriptCheck: true,
  });
  if (check.id !== decoded.transactions[1]?.txid) throw new Error('synthetic block: txid mismatch');
  const noSpends = new Map<string, string>();
  const matched = detect(decoded.transactions, watchSet, noSpends).payments.reduce(
    (n, p) => n + p.outputs.length,
    0,
  );
  if (matched !== block.watched) throw new Error(`detect matched ${matched}, expected ${block.watched}`);

  const phase = SECONDS / 3;
  // The very strings detect() reads, in one array: the lookups without the walk over transactions.
  const scripts = decoded.transactions.flatMap((tx) => tx.outputs.map((o) => o.script));
  let sink = 0;
  const lookupRate =
    OUTPUTS *
    timesPerSecond(phase, gc, () => {
      for (const script of scripts) if (plain.get(script) !== undefined) sink += 1;
    });
  const detectRate =
    OUTPUTS * timesPerSecond(phase, gc, () => detect(decoded.transactions, watchSet, noSpends));
  const fullRate =
    OUTPUTS *
    timesPerSecond(phase, gc, () => detect(decodeBlockHex(block.hex).transactions, watchSet, noSpends));
  if (sink === 0) throw new Error('baseline lookup matched nothing');

  const mb = (bytes: number) => bytes / 2 ** 20;
  const retained = after - before;
  const loadRate = WATCHED / (loadMs / 1000);
  return [
    row(
      'detect_block_10k_outputs_1m_watched',
      detectRate,
      'outputs/s',
      'plain_map_lookup_same_scripts',
      lookupRate,
      '>= 100000 outputs/s',
      detectRate >= 100_000,
    ),
    row(
      'decode_and_detect_block_10k_outputs',
      fullRate,
      'outputs/s',
      'plain_map_lookup_same_scripts',
      lookupRate,
      'informational',
      true,
    ),
    row(
      'watch_set_1m_load',
      loadRate,
      `addresses/s (${Math.round(loadMs)} ms for 1M)`,
      `plain_map_from_bytes (${Math.round(plainLoadMs)} ms)`,
      WATCHED / (plainLoadMs / 1000),
      'informational',
      true,
    ),
    row(
      'watch_set_1m_bytes_per_address',
      retained / WATCHED,
      `bytes (${gcNote})`,
      'payload_script_22_plus_option_id_bytes',
      22 + idFor(0).length,
      'informational',
      true,
    ),
    row(
      'watch_set_1m_heap_used_after',
      mb(after),
      `MiB (${gcNote})`,
      'heap_used_before_MiB',
      mb(before),
      'informational',
      true,
    ),
  ];
}
