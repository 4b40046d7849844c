import { describe, expect, it } from 'vitest';
import { withRetryOnConflict } from '../../src/db/retry.ts';

describe('PostgreSQL conflict retry', () => {
  it('runs a unit again after a deadlock or serialization failure, up to three times', async () => {
    let calls = 0;
    const result = await withRetryOnConflict(async () => {
      calls += 1;
      if (calls < 3)
        throw Object.assign(new Error('deadlock detected'), { code: calls === 1 ? '40P01' : '40001' });
      return 'committed';
    });
    expect(result).toBe('committed');
    expect(calls).toBe(3);
  });

  it('gives up after the last attempt and never retries other errors', async () => {
    let calls = 0;
    await expect(
      withRetryOnConflict(async () => {
        calls += 1;
        throw Object.assign(new Error('deadlock'), { code: '40P01' });
      }),
    ).rejects.toThrow('deadlock');
    expect(calls).toBe(3);
    let unique = 0;
    await expect(
      withRetryOnConflict(async () => {
        unique += 1;
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      }),
    ).rejects.toThrow('duplicate key');
    expect(unique).toBe(1);
  });
});
