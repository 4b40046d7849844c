import { parseRetryAfter, retryDelayMs } from './retry-schedule.ts';

/** What one HTTP attempt came to, as the sender saw it. */
export type SendResult =
  | { kind: 'response'; status: number; body: string; retryAfter: string | null; latencyMs: number }
  | { kind: 'timeout' | 'network_error' | 'refused'; error: string; latencyMs: number };

export type AttemptOutcome = 'succeeded' | 'http_error' | 'timeout' | 'network_error' | 'refused';

export interface Decision {
  outcome: AttemptOutcome;
  /** The delivery after this attempt: done, waiting for its next attempt, or given up. */
  status: 'succeeded' | 'pending' | 'failed';
  nextAttemptAt: Date | null;
  /** Set when the endpoint must be disabled, with the reason recorded on it and in an event. */
  disable: string | null;
}

/** An endpoint that has failed every attempt for this long is disabled (Standard Webhooks' advice). */
export const DISABLE_AFTER_FAILING_MS = 5 * 86_400_000;
/** Statuses whose Retry-After is honoured: the receiver says when it can take more. */
const HONOURS_RETRY_AFTER = new Set([429, 502, 503, 504]);

/**
 * The pure decision after an attempt. Success is any 2xx (a redirect is not followed: the
 * signature covers the URL the merchant registered, and a redirect could point anywhere).
 * `attemptsMade` counts this attempt; `failingSince` is when the endpoint's current run of
 * failures began (null if its last attempt succeeded).
 */
export function decide(
  result: SendResult,
  attemptsMade: number,
  now: Date,
  failingSince: Date | null,
  random: () => number = Math.random,
): Decision {
  if (result.kind === 'response' && result.status >= 200 && result.status < 300)
    return { outcome: 'succeeded', status: 'succeeded', nextAttemptAt: null, disable: null };
  const outcome: AttemptOutcome = result.kind === 'response' ? 'http_error' : result.kind;
  if (result.kind === 'response' && result.status === 410)
    return { outcome, status: 'failed', nextAttemptAt: null, disable: 'the endpoint answered 410 Gone' };
  const since = failingSince ?? now;
  if (now.getTime() - since.getTime() >= DISABLE_AFTER_FAILING_MS)
    return {
      outcome,
      status: 'failed',
      nextAttemptAt: null,
      disable: `every attempt has failed since ${since.toISOString()} (5 days)`,
    };
  let delay = retryDelayMs(attemptsMade, random);
  if (delay === null) return { outcome, status: 'failed', nextAttemptAt: null, disable: null };
  if (result.kind === 'response' && HONOURS_RETRY_AFTER.has(result.status)) {
    const seconds = parseRetryAfter(result.retryAfter, now);
    if (seconds !== null) delay = Math.max(delay, seconds * 1000);
  }
  return { outcome, status: 'pending', nextAttemptAt: new Date(now.getTime() + delay), disable: null };
}
