/**
 * `npm run bench`: each area prints a table and writes bench/results/<area>.json, every figure
 * beside a baseline measured in the same run (format: DESIGN.md §6).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchBitcoin } from './bitcoin.ts';
import { benchCore } from './core.ts';
import { benchEvm } from './evm.ts';
import { printTable } from './lib.ts';
import { benchMoney } from './money.ts';
import { benchWeb } from './web.ts';
import { benchWebhooks } from './webhooks.ts';

const areas = {
  core: benchCore,
  bitcoin: benchBitcoin,
  webhooks: benchWebhooks,
  evm: benchEvm,
  money: benchMoney,
  web: benchWeb,
};
const only = process.argv[2];
mkdirSync('bench/results', { recursive: true });
for (const [area, run] of Object.entries(areas)) {
  if (only && only !== area) continue;
  const rows = await run();
  printTable(`${area} (${new Date().toISOString().slice(0, 10)})`, rows);
  writeFileSync(`bench/results/${area}.json`, `${JSON.stringify(rows, null, 2)}\n`);
}
process.exit(0);
