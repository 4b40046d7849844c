/**
 * The Standard Webhooks retry schedule: the first attempt immediately, then after 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h — ten attempts over about three days and a half.
 * Each wait gets ±10% jitter so that the deliveries of a receiver that was down do not all come
 * back in the same second.
 */
export const RETRY_SCHEDULE_SECONDS = [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE_SECONDS.length;
/** A Retry-After beyond this is capped: a receiver cannot park a delivery indefinitely. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

/** Milliseconds to wait after `attemptsMade` attempts failed, or null once the schedule is used up. */
export function retryDelayMs(attemptsMade: number, random: () => number = Math.random): number | null {
  const seconds = RETRY_SCHEDULE_SECONDS[attemptsMade];
  if (seconds === undefined) return null;
  return Math.round(seconds * 1000 * (0.9 + 0.2 * random()));
}

/** Retry-After as seconds (delta-seconds or an HTTP date), or null if absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), MAX_RETRY_AFTER_SECONDS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, Math.ceil((at - now.getTime()) / 1000)), MAX_RETRY_AFTER_SECONDS);
}
