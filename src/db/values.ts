/** Conversions between domain values and the portable column encodings described in schema.ts. */
export function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

export function toDateOrNull(value: string | Date | null): Date | null {
  return value === null ? null : toDate(value);
}

export function iso(value: Date): string {
  return value.toISOString();
}

export function flag(value: boolean): number {
  return value ? 1 : 0;
}

export function isFlagSet(value: number | boolean): boolean {
  return value === true || value === 1;
}
