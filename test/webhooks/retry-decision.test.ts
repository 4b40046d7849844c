/** The pure decision after each attempt: schedule with jitter, Retry-After, 410, five days failing. */
import { describe, expect, it } from 'vitest';
import { DISABLE_AFTER_FAILING_MS, decide, type SendResult } from '../../src/webhooks/attempt-outcome.ts';
import {
  MAX_ATTEMPTS,
  parseRetryAfter,
  RETRY_SCHEDULE_SECONDS,
  retryDelayMs,
} from '../../src/webhooks/retry-schedule.ts';

const now = new Date('2026-11-21T12:00:00Z');
const http = (status: number, retryAfter: string | null = null): SendResult => ({
  kind: 'response',
  status,
  body: '',
  retryAfter,
  latencyMs: 3,
});
const at = (ms: number) => new Date(now.getTime() + ms);

describe('retry decisions', () => {
  it('follows the Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h', () => {
    expect(RETRY_SCHEDULE_SECONDS).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
    const mid = () => 0.5; // no jitter
    const waits = [];
    for (let made = 1; made < MAX_ATTEMPTS; made++) {
      const d = decide(http(500), made, now, now, mid);
      expect(d.status).toBe('pending');
      waits.push(((d.nextAttemptAt?.getTime() ?? 0) - now.getTime()) / 1000);
    }
    expect(waits).toEqual([5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
  });

  it('gives up after the tenth attempt without disabling the endpoint', () => {
    expect(decide(http(500), MAX_ATTEMPTS, now, now)).toEqual({
      outcome: 'http_error',
      status: 'failed',
      nextAttemptAt: null,
      disable: null,
    });
  });

  it('jitters each wait within ±10%', () => {
    expect(retryDelayMs(2, () => 0)).toBe(270_000);
    expect(retryDelayMs(2, () => 1)).toBe(330_000);
    expect(retryDelayMs(MAX_ATTEMPTS, () => 0.5)).toBeNull();
  });

  it('counts any 2xx as success and anything else (redirects too) as failure', () => {
    expect(decide(http(204), 1, now, null).status).toBe('succeeded');
    expect(decide(http(299), 1, now, null).status).toBe('succeeded');
    expect(decide(http(301), 1, now, null)).toMatchObject({ status: 'pending', outcome: 'http_error' });
    expect(decide({ kind: 'timeout', error: 't', latencyMs: 10_000 }, 1, now, null).outcome).toBe('timeout');
  });

  it('disables on 410 Gone at once', () => {
    expect(decide(http(410), 1, now, null)).toMatchObject({
      status: 'failed',
      disable: expect.stringContaining('410'),
    });
  });

  it.each([429, 502, 503, 504])(
    'honours Retry-After on %i (seconds or HTTP date), never sooner than the schedule',
    (status) => {
      const mid = () => 0.5;
      expect(decide(http(status, '120'), 1, now, null, mid).nextAttemptAt).toEqual(at(120_000));
      expect(
        decide(http(status, new Date(now.getTime() + 600_000).toUTCString()), 1, now, null, mid)
          .nextAttemptAt,
      ).toEqual(at(600_000));
      // Retry-After shorter than the schedule: the schedule wins (5 min after the second attempt).
      expect(decide(http(status, '1'), 2, now, null, mid).nextAttemptAt).toEqual(at(300_000));
    },
  );

  it('ignores Retry-After on a plain 500 and caps it at a day', () => {
    expect(decide(http(500, '3600'), 1, now, null, () => 0.5).nextAttemptAt).toEqual(at(5_000));
    expect(parseRetryAfter('9999999', now)).toBe(86_400);
    expect(parseRetryAfter('soon', now)).toBeNull();
  });

  it('disables an endpoint whose every attempt has failed for five days', () => {
    const since = new Date(now.getTime() - DISABLE_AFTER_FAILING_MS);
    expect(decide(http(500), 3, now, since)).toMatchObject({
      status: 'failed',
      disable: expect.stringContaining('5 days'),
    });
    const justUnder = new Date(now.getTime() - DISABLE_AFTER_FAILING_MS + 1);
    expect(decide(http(500), 3, now, justUnder)).toMatchObject({ status: 'pending', disable: null });
  });
});
