/** Conversions between domain values and the portable column encodings described in schema.ts. */
export function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

export function toDateOrNull(value: string | Date | null): Date | null {
  return value === null ? null : toDate(value);
}

// Two instants, not one: a new invoice's rows alternate between its creation time and its expiry,
// and with one remembered instant each of them missed every time.
let lastTime = Number.NaN;
let lastIso = '';
let otherTime = Number.NaN;
let otherIso = '';

/**
 * A batch of rows stamps the same few instants many times over; formatting them each time was
 * 2.7% of the main thread under invoice-creation load, so the last two are remembered.
 */
export function iso(value: Date): string {
  const time = value.getTime();
  if (time === lastTime) return lastIso;
  if (time === otherTime) {
    // Swap, so the most recent stays first.
    [otherTime, otherIso, lastTime, lastIso] = [lastTime, lastIso, otherTime, otherIso];
    return lastIso;
  }
  const text = value.toISOString(); // throws for an invalid date, before anything is remembered
  otherTime = lastTime;
  otherIso = lastIso;
  lastTime = time;
  lastIso = text;
  return text;
}

export function flag(value: boolean): number {
  return value ? 1 : 0;
}

export function isFlagSet(value: number | boolean): boolean {
  return value === true || value === 1;
}
