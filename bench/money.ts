import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Sqlite from 'better-sqlite3';
import { openDatabase } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrate.ts';
import { reportText } from '../src/settlement/report-format.ts';
import { type Row, row } from './lib.ts';

const INVOICES = Number(process.env.BENCH_MONEY_INVOICES ?? 1_000_000);
const MERCHANT = 'mer_00000000000000000000000bench';
const START = Date.parse('2026-11-01T00:00:00Z');

const id = (prefix: string, i: number) => `${prefix}_${i.toString(36).padStart(26, '0')}`;

/**
 * Seeds a SQLite database with INVOICES paid invoices (one confirmed payment each, BTC at a locked
 * USD rate, one every 2 s through November 2026), a tenth of them swept by 1,000 movements in 10
 * settlement batches and one in a hundred refunded. Written with better-sqlite3 directly in one
 * transaction: this is the fixture, not what is measured.
 */
export function seed(file: string): void {
  const db = new Sqlite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const invoice = db.prepare(
    `insert into invoices (id, merchant_id, status, merchant_order_id, customer_id, description, price_amount, price_currency, metadata, success_url, cancel_url, expires_at, policy, selected_option_id, refunded_amount, manually_paid, sequence, version, fulfilled_at, fulfilment, created_at, updated_at)
     values (?, '${MERCHANT}', ?, ?, null, null, ?, 'USD', '{}', null, null, ?, '{}', ?, ?, 0, 3, 3, null, null, ?, ?)`,
  );
  const option = db.prepare(
    `insert into payment_options (id, invoice_id, merchant_id, position, asset, network, address, wallet_id, derivation_index, amount_due, decimals, required_confirmations, zero_conf_allowed, confirmation_reason, rate_value, rate_source, rate_fetched_at)
     values (?, ?, '${MERCHANT}', 0, 'BTC', 'bitcoin', ?, 'wal_bench', ?, ?, 8, 2, 0, 'bench', '65012.50', 'kraken', ?)`,
  );
  const payment = db.prepare(
    `insert into payments (id, invoice_id, option_id, merchant_id, network, asset, txid, output_index, amount, confirmations, block_hash, block_height, rbf, seen_at, timing, credited, removed, removed_reason, updated_at)
     values (?, ?, ?, '${MERCHANT}', 'bitcoin', 'BTC', ?, 0, ?, 6, ?, ?, 0, ?, 'on_time', 1, 0, null, ?)`,
  );
  const movement = db.prepare(
    `insert into settlement_movements (id, merchant_id, network, asset, txid, block_hash, block_height, inputs_value, refunded, swept, fee, outputs, refund_id, batch_id, seen_at)
     values (?, '${MERCHANT}', 'bitcoin', 'BTC', ?, ?, ?, ?, '0', ?, '2000', '[]', null, ?, ?)`,
  );
  const input = db.prepare(
    `insert into settlement_movement_inputs (movement_id, outpoint, invoice_id, payment_id, amount) values (?, ?, ?, ?, ?)`,
  );
  const refund = db.prepare(
    `insert into refunds (id, merchant_id, invoice_id, option_id, kind, amount, asset, network, destination, status, reason, requested_by, approved_by, approval_reason, link_token_hash, unsigned_tx, fee_estimate, send_amount, txid, fee, created_at, approved_at, completed_at, updated_at)
     values (?, '${MERCHANT}', ?, ?, 'partial', '1000', 'BTC', 'bitcoin', 'bc1qbench', 'completed', 'bench', 'key_a', 'key_b', 'ok', null, null, null, null, ?, '300', ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    db.prepare(
      `insert into merchants (id, name, policy, created_at) values ('${MERCHANT}', 'Bench', '{}', ?)`,
    ).run(new Date(START).toISOString());
    for (let i = 0; i < INVOICES; i++) {
      const at = new Date(START + i * 2_000).toISOString();
      const inv = id('inv', i);
      const opt = id('opt', i);
      const pay = id('pay', i);
      const due = 38_000n + BigInt(i % 5_000);
      const txid = i.toString(16).padStart(64, '0');
      const refunded = i % 100 === 7;
      invoice.run(
        inv,
        refunded ? 'partially_refunded' : 'paid',
        `order-${i}`,
        '2500',
        at,
        opt,
        refunded ? '1000' : '0',
        at,
        at,
      );
      option.run(opt, inv, `bc1qbench${i}`, i, due.toString(), at);
      payment.run(pay, inv, opt, txid, due.toString(), `b${i >> 8}`, 800_000 + (i >> 8), at, at);
      if (i % 10 === 0) {
        const m = Math.floor(i / 10) % 1_000;
        if (i < 10_000)
          movement.run(
            id('mov', m),
            `ff${m.toString(16).padStart(62, '0')}`,
            `h${m}`,
            900_000 + m,
            '0',
            '0',
            id('stb', m % 10),
            at,
          );
        input.run(id('mov', m), `${txid}:0`, inv, pay, due.toString());
      }
      if (refunded) refund.run(id('ref', i), inv, opt, `r${i}`.padEnd(64, '0'), at, at, at, at);
    }
  })();
  db.close();
}

/** A garbage collector we can call: live memory is what survives it, not what RSS happens to hold. */
function forceGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function peakSampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return {
    sample: () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    },
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}

/**
 * The settlement report over INVOICES invoices, streamed as CSV through the same code the API and
 * `tally export` use (the chunks are consumed and counted, as a socket would), beside a bare
 * better-sqlite3 iteration of the same payment rows in the same run; peak RSS during the report
 * beside the RSS before it.
 */
export async function benchMoney(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-money-'));
  const file = join(dir, 'money.db');
  try {
    const database = openDatabase({ url: file });
    await migrate(database);
    await database.close();
    const seeding = performance.now();
    seed(file);
    process.stderr.write(
      `money: seeded ${INVOICES} invoices in ${((performance.now() - seeding) / 1000).toFixed(1)} s\n`,
    );

    const bare = new Sqlite(file, { readonly: true });
    const bareStart = performance.now();
    let bareRows = 0;
    for (const _ of bare.prepare('select * from payments order by seen_at, id').iterate()) bareRows += 1;
    const bareSeconds = (performance.now() - bareStart) / 1000;
    bare.close();

    const db = openDatabase({ url: file });
    global.gc?.();
    const before = process.memoryUsage().rss;
    const sampler = peakSampler();
    const started = performance.now();
    let bytes = 0;
    let lines = 0;
    for await (const chunk of reportText(
      db.read,
      {
        merchantId: MERCHANT,
        from: new Date(START),
        to: new Date(START + 40 * 86_400_000),
        sqlitePath: file,
      },
      'csv',
    )) {
      bytes += chunk.length;
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines += 1;
      sampler.sample();
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = sampler.stop();

    // A second, untimed pass: the heap that survives a full collection, every 20 pages. Flat
    // (the same at 100,000 and 1,000,000 invoices) is what "streaming" must mean.
    const gc = forceGc();
    gc();
    const liveBefore = process.memoryUsage().heapUsed;
    let liveMax = liveBefore;
    let chunks = 0;
    for await (const _chunk of reportText(
      db.read,
      {
        merchantId: MERCHANT,
        from: new Date(START),
        to: new Date(START + 40 * 86_400_000),
        sqlitePath: file,
      },
      'csv',
    )) {
      if (++chunks % 20 === 0) {
        gc();
        liveMax = Math.max(liveMax, process.memoryUsage().heapUsed);
      }
    }
    await db.close();
    const expectedLines = 1 + INVOICES + 1_000 + Math.ceil(INVOICES / 100);
    if (lines !== expectedLines || bareRows !== INVOICES)
      throw new Error(`report had ${lines} lines (expected ${expectedLines}), bare scan ${bareRows} rows`);
    const mb = (n: number) => n / 1024 / 1024;
    process.stderr.write(`money: ${lines} CSV lines, ${mb(bytes).toFixed(0)} MB of text\n`);
    return [
      row(
        `settlement_report_csv_${INVOICES}_invoices`,
        seconds,
        's',
        'bare_sqlite_scan_of_the_same_payment_rows',
        bareSeconds,
        '<= 10 s',
        seconds <= 10,
      ),
      row(
        'settlement_report_rows_per_second',
        lines / seconds,
        'rows/s',
        'bare_sqlite_scan_rows_per_second',
        bareRows / bareSeconds,
        '>= 100000 rows/s',
        lines / seconds >= 100_000,
      ),
      row(
        'settlement_report_peak_rss_growth',
        mb(peak - before),
        'MB',
        'rss_before_report',
        mb(before),
        '<= 384 MB growth (RSS keeps garbage until V8 collects it)',
        mb(peak - before) <= 384,
      ),
      row(
        'settlement_report_live_heap_growth_after_gc',
        mb(liveMax - liveBefore),
        'MB',
        'live_heap_before_report',
        mb(liveBefore),
        '<= 32 MB (one page of 5,000 payments at a time)',
        mb(liveMax - liveBefore) <= 32,
      ),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
