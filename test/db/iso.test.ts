/** iso() remembers the last two instants it formatted (src/db/values.ts); it must never return a stale one. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { iso } from '../../src/db/values.ts';

describe('iso', () => {
  it('formats every instant as toISOString does, in any order, repeats included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4_102_444_800_000 }), { minLength: 1, maxLength: 20 }),
        (times) => {
          for (const t of [...times, ...times.reverse()])
            expect(iso(new Date(t))).toBe(new Date(t).toISOString());
        },
      ),
    );
  });

  it('formats every instant right when a few of them alternate, as a batch of invoice rows does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4_102_444_800_000 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        (instants, picks) => {
          for (const pick of picks) {
            const t = instants[pick % instants.length] ?? 0;
            expect(iso(new Date(t))).toBe(new Date(t).toISOString());
          }
        },
      ),
    );
  });

  it('still refuses an invalid date, and remembers nothing from it', () => {
    const before = new Date(1_700_000_000_000);
    expect(iso(before)).toBe(before.toISOString());
    expect(() => iso(new Date(Number.NaN))).toThrow(RangeError);
    expect(iso(before)).toBe(before.toISOString());
  });
});
