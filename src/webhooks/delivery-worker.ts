import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Tally } from '../context.ts';
import { countAttempts } from './attempt-counts.ts';
import { decide } from './attempt-outcome.ts';
import {
  type AttemptRecord,
  type ClaimedDelivery,
  claimDeliveries,
  recordAttempts,
} from './delivery-store.ts';
import { createHttpSender, type Sender } from './http-sender.ts';
import { sequenceOutbox } from './outbox-sequencer.ts';
import { webhookHeaders } from './signature.ts';
import { AllowList } from './ssrf-guard.ts';

export interface DeliveryWorkerOptions {
  /** Replaces the HTTP sender (tests of the decision path); the default is the guarded HTTP client. */
  sender?: Sender;
  random?: () => number;
}

/**
 * The webhook delivery loop (docs/decisions/0010). Each tick numbers newly committed events and
 * fans them out (the outbox sequencer), then claims due deliveries up to the free slots and sends
 * them without waiting for each other. Slots are bounded per process (webhookConcurrency) and per
 * endpoint (webhookEndpointConcurrency), and every request has a hard timeout, so a slow or dead
 * endpoint holds at most its own share of slots for at most the timeout: it never delays another.
 * A finished send frees its slot and triggers the next tick at once.
 */
export class DeliveryWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly send: Sender;
  private readonly closeSender: () => void;
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly perEndpoint = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly unrecorded: Array<{
    record: AttemptRecord;
    resolve: () => void;
    reject: (error: unknown) => void;
  }> = [];
  private recording = false;

  constructor(
    private readonly tally: Tally,
    options: DeliveryWorkerOptions = {},
  ) {
    const config = tally.config;
    if (options.sender) {
      this.send = options.sender;
      this.closeSender = () => {};
    } else {
      const http = createHttpSender({
        allow: new AllowList(config.webhookAllowedNetworks),
        timeoutMs: config.webhookTimeoutMs,
        maxSockets: config.webhookEndpointConcurrency,
      });
      this.send = http.send;
      this.closeSender = http.close;
    }
    this.random = options.random ?? Math.random;
  }

  /** Long enough that a live worker always finishes (timeout) and records an attempt first. */
  private get leaseMs(): number {
    return this.tally.config.webhookTimeoutMs * 2 + 5_000;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await this.drain();
    this.closeSender();
  }

  /** Sequences, claims and starts sends; returns how many deliveries were started. */
  async tick(): Promise<number> {
    const { database, clock, config } = this.tally;
    await sequenceOutbox(database, clock.now());
    const free = config.webhookConcurrency - this.inFlight.size;
    if (free <= 0) return 0;
    const claimed = await claimDeliveries(
      database,
      this.id,
      clock.now(),
      this.leaseMs,
      (endpointId) => config.webhookEndpointConcurrency - (this.perEndpoint.get(endpointId) ?? 0),
      config.webhookEndpointConcurrency,
      free,
    );
    for (const d of claimed) this.launch(d);
    return claimed.length;
  }

  /** Waits for every send in flight (and its record) to finish. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** One full pass for tests: tick, then wait for the sends. Returns deliveries attempted. */
  async runOnce(): Promise<number> {
    const n = await this.tick();
    await this.drain();
    return n;
  }

  private launch(d: ClaimedDelivery): void {
    this.perEndpoint.set(d.endpointId, (this.perEndpoint.get(d.endpointId) ?? 0) + 1);
    const task = this.attempt(d)
      .catch((error) =>
        this.tally.log.error(
          { delivery: d.id, err: (error as Error).message },
          'webhook attempt not recorded',
        ),
      )
      .finally(() => {
        this.inFlight.delete(task);
        const left = (this.perEndpoint.get(d.endpointId) ?? 1) - 1;
        if (left <= 0) this.perEndpoint.delete(d.endpointId);
        else this.perEndpoint.set(d.endpointId, left);
        // Claim again once half of this endpoint's slots are free, not after every single send:
        // claims are writes, and refilling in batches keeps them few at full speed.
        if (!this.stopped && left <= this.tally.config.webhookEndpointConcurrency / 2) this.wake();
      });
    this.inFlight.add(task);
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const { clock } = this.tally;
    const startedAt = clock.now();
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const result = await this.send({
      url: d.url,
      headers: webhookHeaders(d.secrets, d.eventId, timestamp, d.payload),
      body: d.payload,
    });
    const now = clock.now();
    const decision = decide(result, d.attempts + 1, now, d.failingSince, this.random);
    await this.record({ delivery: d, startedAt, timestamp, result, decision, now });
  }

  /**
   * Attempts finishing while a record is being written wait and go into the next write together
   * (the same idea as SQLite's group commit): one transaction per batch instead of per delivery.
   */
  private record(record: AttemptRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.unrecorded.push({ record, resolve, reject });
      if (!this.recording) {
        this.recording = true;
        setImmediate(() => void this.flushRecords());
      }
    });
  }

  private async flushRecords(): Promise<void> {
    try {
      while (this.unrecorded.length > 0) {
        const batch = this.unrecorded.splice(0, 500);
        let failed: Map<AttemptRecord, unknown>;
        try {
          const unrecorded = await recordAttempts(
            this.tally.database,
            this.id,
            batch.map((b) => b.record),
          );
          failed = new Map(unrecorded.map((u) => [u.record, u.error]));
        } catch (error) {
          // recordAttempts reports failures rather than throwing; should it throw anyway, every
          // task still settles (a task left waiting would hold its slot until stop()).
          failed = new Map(batch.map((b) => [b.record, error]));
        }
        countAttempts(
          this.tally,
          batch.filter((b) => !failed.has(b.record)).map((b) => b.record.decision.outcome),
        );
        // Each attempt settles on its own: one that could not be written is logged by its task.
        for (const b of batch) {
          if (failed.has(b.record)) b.reject(failed.get(b.record));
          else b.resolve();
        }
      }
    } finally {
      this.recording = false;
    }
  }

  /** Runs a tick now, or right after the current one; then polls at webhookPollMs when idle. */
  private wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ticking = this.tick()
      .catch((error) => {
        this.tally.log.error({ err: (error as Error).message }, 'webhook delivery loop');
        return 0;
      })
      .then((started) => {
        this.ticking = null;
        if (this.stopped) return;
        if (this.again || started > 0) {
          this.again = false;
          setImmediate(() => this.wake());
        } else {
          this.timer = setTimeout(() => this.wake(), this.tally.config.webhookPollMs);
        }
      });
  }
}
