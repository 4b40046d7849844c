/** Conversions between domain values and the portable column encodings described in schema.ts. */
export function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

export function toDateOrNull(value: string | Date | null): Date | null {
  return value === null ? null : toDate(value);
}

let lastTime = Number.NaN;
let lastIso = '';

/**
 * A batch of rows stamps the same instant many times over; formatting it each time was 2.7% of the
 * main thread under invoice-creation load, so the last one is remembered.
 */
export function iso(value: Date): string {
  const time = value.getTime();
  if (time !== lastTime) {
    lastIso = value.toISOString();
    lastTime = time;
  }
  return lastIso;
}

export function flag(value: boolean): number {
  return value ? 1 : 0;
}

export function isFlagSet(value: number | boolean): boolean {
  return value === true || value === 1;
}
