/**
 * Compiles contracts/*.sol with solc-js (the pinned npm `solc`) and writes the ABI and creation
 * bytecode to src/dev/contracts/artifacts.json. The JSON is checked in so that `npm start` and the
 * tests never wait for a compiler; test/chains/evm-contracts.test.ts recompiles and fails if the
 * checked-in bytecode differs from what the sources produce.
 *
 *   node --import tsx scripts/compile-contracts.ts          rewrite the artifacts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileContracts } from './solc-build.ts';

const out = fileURLToPath(new URL('../src/dev/contracts/artifacts.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(compileContracts(), null, 2)}\n`);
process.stdout.write(`wrote ${out}\n`);
