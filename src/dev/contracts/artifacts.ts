import { readFileSync } from 'node:fs';
import type { Abi, Hex } from 'viem';

/**
 * The test ERC-20 and the forwarder, compiled from contracts/*.sol by scripts/compile-contracts.ts
 * (solc-js 0.8.37, fixed settings). Checked in so nothing waits for a compiler; a test recompiles
 * and compares (test/chains/evm-contracts.test.ts).
 */
interface Artifacts {
  compiler: string;
  contracts: Record<'TestToken' | 'Forwarder', { abi: Abi; bytecode: Hex }>;
}

export const ARTIFACTS = JSON.parse(
  readFileSync(new URL('./artifacts.json', import.meta.url), 'utf8'),
) as Artifacts;
