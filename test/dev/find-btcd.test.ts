import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findBtcd } from '../../src/dev/bitcoin-devnet.ts';

/** TALLY_BTCD is a setting like the others: one that names no file is refused, not passed over. */
describe('findBtcd and TALLY_BTCD', () => {
  const saved = process.env.TALLY_BTCD;
  afterEach(() => {
    if (saved === undefined) delete process.env.TALLY_BTCD;
    else process.env.TALLY_BTCD = saved;
  });

  it('refuses a path that names no file, naming the variable', () => {
    process.env.TALLY_BTCD = '/nonexistent/btcd';
    expect(() => findBtcd()).toThrow(/TALLY_BTCD .*"\/nonexistent\/btcd" does not exist/);
  });

  it('takes the file it names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-btcd-'));
    try {
      const path = join(dir, 'btcd');
      writeFileSync(path, '');
      process.env.TALLY_BTCD = path;
      expect(findBtcd()).toBe(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
