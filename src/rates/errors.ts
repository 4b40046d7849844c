import { TallyError } from '../core/errors.ts';

/** Every rate failure is the same coded error, its message naming the source so operators know whom to blame. */
export function rateUnavailable(
  source: string,
  reason: string,
  details?: Record<string, unknown>,
): TallyError {
  return new TallyError('rate_unavailable', `${source}: ${reason}`, { source, reason, ...details });
}

/** Shows a refused value in a message without letting a huge payload into logs. */
export function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
