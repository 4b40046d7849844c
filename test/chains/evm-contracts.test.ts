import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileContracts } from '../../scripts/solc-build.ts';

/**
 * The bytecode that `npm start` and the tests deploy is checked in (src/dev/contracts/artifacts.json);
 * this recompiles contracts/*.sol with the pinned solc-js and fails if the two differ, so the
 * artifacts can never drift from their source. Fix: node --import tsx scripts/compile-contracts.ts
 */
describe('checked-in contract artifacts', () => {
  it('equal a fresh solc-js compilation of contracts/*.sol', () => {
    const checkedIn = JSON.parse(
      readFileSync(new URL('../../src/dev/contracts/artifacts.json', import.meta.url), 'utf8'),
    ) as ReturnType<typeof compileContracts>;
    const fresh = compileContracts();
    expect(fresh.compiler).toBe(checkedIn.compiler);
    for (const name of ['TestToken', 'Forwarder'] as const) {
      expect(fresh.contracts[name]?.bytecode, name).toBe(checkedIn.contracts[name]?.bytecode);
      expect(fresh.contracts[name]?.abi, name).toEqual(checkedIn.contracts[name]?.abi);
      expect(checkedIn.contracts[name]?.bytecode.length, name).toBeGreaterThan(100);
    }
  }, 60_000);
});
