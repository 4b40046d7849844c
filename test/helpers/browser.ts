import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium (scripts/install-chromium.sh, run by npm test) driven by playwright-core. The
 * flags keep it off the network: this machine has none, and Chromium's background fetches would
 * otherwise be refused many times a second.
 */
export const CHROMIUM = process.env.TALLY_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), '.test-artifacts', 'web');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: run bash scripts/install-chromium.sh (npm test does).`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Bytes on the wire for everything the page loaded (headers + bodies as sent, i.e. compressed). */
export function countTransfer(page: Page): { total(): Promise<{ bytes: number; requests: number }> } {
  const sizes: Array<Promise<number>> = [];
  page.on('requestfinished', (request) => {
    sizes.push(request.sizes().then((s) => s.responseBodySize + s.responseHeadersSize));
  });
  return {
    async total() {
      const all = await Promise.all(sizes);
      return { bytes: all.reduce((a, b) => a + b, 0), requests: all.length };
    },
  };
}
