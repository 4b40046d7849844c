/** iso() remembers the last instant it formatted (src/db/values.ts); it must never return a stale one. */
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

  it('still refuses an invalid date', () => {
    expect(() => iso(new Date(Number.NaN))).toThrow(RangeError);
  });
});
