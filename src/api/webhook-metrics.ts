import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Tally } from '../context.ts';
import type { Schema } from '../db/schema.ts';
import { toDate } from '../db/values.ts';
import { attemptCounts } from '../webhooks/attempt-counts.ts';

/**
 * Webhook delivery health, read at scrape time. The gauges come from the database, so every
 * gateway process reports the same backlog (alert on max, not sum): the pending count and its
 * oldest row read only pending rows through the (status, next_attempt_at) index — a handful when
 * receivers are healthy, the backlog itself during an outage — and endpoints are few. Attempts by
 * outcome are this process's own counter (src/webhooks/attempt-counts.ts says why).
 */
export function registerWebhookMetrics(registry: Registry, tally: Tally, db: () => Kysely<Schema>): void {
  new Counter({
    name: 'tally_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts this process recorded, by outcome (succeeded, http_error, timeout, network_error, refused)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of attemptCounts(tally)) this.inc({ outcome }, n);
    },
  });
  // Two small queries rather than one shared: prom-client collects metrics concurrently, so a
  // result cached between gauges could be a scrape old.
  const pending = () => db().selectFrom('webhook_deliveries').where('status', '=', 'pending');
  new Gauge({
    name: 'tally_webhook_deliveries_pending',
    help: 'Webhook deliveries not yet delivered nor given up (due, waiting to retry, or in flight)',
    registers: [registry],
    async collect() {
      const row = await pending()
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });
  new Gauge({
    name: 'tally_webhook_oldest_pending_delivery_age_seconds',
    help: 'Seconds since the oldest still-pending webhook delivery was created (0 when none is pending)',
    registers: [registry],
    async collect() {
      const row = await pending()
        .select((eb) => eb.fn.min('created_at').as('oldest'))
        .executeTakeFirst();
      const oldest = row?.oldest ? toDate(row.oldest) : null;
      this.set(oldest ? Math.max(0, (tally.clock.now().getTime() - oldest.getTime()) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'tally_webhook_endpoints_disabled',
    help: 'Webhook endpoints disabled (410 Gone, five days failing, or by the merchant)',
    registers: [registry],
    async collect() {
      const row = await db()
        .selectFrom('webhook_endpoints')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('enabled', '=', 0)
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });
}
