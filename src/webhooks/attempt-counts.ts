import type { AttemptOutcome } from './attempt-outcome.ts';

/**
 * Delivery attempts this process has recorded, by outcome, for `tally_webhook_delivery_attempts_total`.
 * Kept in memory rather than counted from `webhook_attempts` at scrape: that table only grows and
 * has no index by outcome, so a count would scan all of it every scrape. A per-process counter is
 * what Prometheus expects anyway (it resets on restart; sum(rate()) across processes).
 * Keyed by the Tally instance so two gateways in one process (tests) do not share counts.
 */
const counts = new WeakMap<object, Map<AttemptOutcome, number>>();

export function countAttempts(owner: object, outcomes: readonly AttemptOutcome[]): void {
  let byOutcome = counts.get(owner);
  if (!byOutcome) {
    byOutcome = new Map();
    counts.set(owner, byOutcome);
  }
  for (const o of outcomes) byOutcome.set(o, (byOutcome.get(o) ?? 0) + 1);
}

export function attemptCounts(owner: object): ReadonlyMap<AttemptOutcome, number> {
  return counts.get(owner) ?? new Map();
}
