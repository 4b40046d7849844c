import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from '../helpers/axe.ts';
import { ARTIFACTS, countTransfer, launchBrowser, screenshot } from '../helpers/browser.ts';
import { startWebGateway, type WebGateway } from '../helpers/web-gateway.ts';

/**
 * The hosted checkout in a real Chromium against the real gateway and the anvil devnet: the page
 * shows what the payer needs, its QR code decodes to the option's payment URI, copy works from
 * the keyboard, and paying with the dev helper moves the page to "complete" without a reload, over
 * SSE and, with EventSource taken away, over the polling fallback.
 */
const jsqr = readFileSync(createRequire(import.meta.url).resolve('jsqr/dist/jsQR.js'), 'utf8');

describe('checkout page in Chromium', () => {
  let gw: WebGateway;
  let browser: Browser;
  let context: BrowserContext;
  beforeAll(async () => {
    [gw, browser] = await Promise.all([startWebGateway(), launchBrowser()]);
    context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('shows the invoice, decodes its QR, copies by keyboard, and goes to complete live when paid', async () => {
    const created = await gw.api('POST', '/v1/invoices', {
      price: { amount: '12.50', currency: 'USD' },
      payment_options: [{ asset: 'USDC', network: 'evm-devnet' }],
      merchant_order_id: 'B-1001',
      success_url: 'https://shop.test/thanks',
      cancel_url: 'https://shop.test/cart',
    });
    expect(created.status).toBe(201);
    const invoice = created.body;
    const option = invoice.payment_options[0];

    const page = await context.newPage();
    const transfer = countTransfer(page);
    const started = Date.now();
    await page.goto(`${gw.url}/pay/${invoice.id}`, { waitUntil: 'load' });
    const loadMs = Date.now() - started;
    await expect.poll(() => page.locator('#countdown').textContent()).toMatch(/^\d\d:\d\d$/);
    expect(await page.locator('h1').textContent()).toBe('Corner Bookshop');
    expect(await page.locator('.price').textContent()).toBe('12.50 USD');
    expect(await page.locator('#state-title').textContent()).toBe('Waiting for payment');
    expect(await page.locator('#network').textContent()).toBe('Local EVM devnet (anvil)');
    expect(await page.locator('.network .warn').first().textContent()).toContain(
      'Send USDC on Local EVM devnet (anvil) only',
    );
    expect(await page.locator('#address').textContent()).toBe(option.address);
    expect(await page.locator('#amount-label').textContent()).toContain('Send exactly 12.5 USDC');
    expect(await page.locator('#success-link').isHidden()).toBe(true);

    // The QR code, rasterised by the browser and read back with jsQR, is the option's payment URI.
    const decoded = await page.evaluate(`(async () => {
      ${jsqr}
      const svg = document.querySelector('.qr svg');
      const img = new Image();
      img.src = 'data:image/svg+xml;base64,' + btoa(new XMLSerializer().serializeToString(svg));
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 400;
      const g = canvas.getContext('2d');
      g.fillStyle = '#fff'; g.fillRect(0, 0, 400, 400); g.drawImage(img, 0, 0, 400, 400);
      const found = jsQR(g.getImageData(0, 0, 400, 400).data, 400, 400);
      return found && found.data;
    })()`);
    expect(decoded).toBe(option.payment_uri);

    // Keyboard only: Tab to "Copy address", press Enter, the clipboard holds the address.
    let focused = '';
    for (let i = 0; i < 15 && focused !== 'Copy address'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>(
        'document.activeElement ? document.activeElement.textContent : ""',
      );
    }
    expect(focused).toBe('Copy address');
    await page.keyboard.press('Enter');
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(option.address);
    await screenshot(page, 'checkout-waiting-phone');
    expect(await seriousA11yViolations(page, 'checkout-waiting')).toEqual([]);

    const { bytes, requests } = await transfer.total();
    writeFileSync(
      join(ARTIFACTS, 'checkout-transfer.json'),
      JSON.stringify({ invoice: invoice.id, bytes, requests, load_ms: loadMs }, null, 2),
    );
    // Page + CSS + JS + first SSE response, compressed: a budget, so growth is noticed.
    expect(bytes).toBeLessThan(16_000);

    // A second page with no EventSource: the polling fallback must get there too.
    const polling = await context.newPage();
    await polling.addInitScript('delete window.EventSource');
    await polling.goto(`${gw.url}/pay/${invoice.id}`);

    await page.evaluate('window.marker = 42');
    const paid = await gw.api('POST', `/v1/dev/invoices/${invoice.id}/pay`);
    expect(paid.status).toBe(200);
    await page.locator('#state-title', { hasText: 'Payment complete' }).waitFor({ timeout: 20_000 });
    // Same document: the page was updated in place, not reloaded.
    expect(await page.evaluate<number>('window.marker')).toBe(42);
    expect(await page.locator('#success-link').isVisible()).toBe(true);
    expect(await page.locator('#success-link').getAttribute('href')).toBe('https://shop.test/thanks');
    expect(await page.locator('#pay').isHidden()).toBe(true);
    await screenshot(page, 'checkout-complete-phone');
    expect(await seriousA11yViolations(page, 'checkout-complete')).toEqual([]);
    await polling.locator('#state-title', { hasText: 'Payment complete' }).waitFor({ timeout: 20_000 });
    await screenshot(polling, 'checkout-complete-polling');
  }, 90_000);

  it('offers a choice when an invoice has several options, as plain links', async () => {
    const created = await gw.api('POST', '/v1/invoices', {
      price: { amount: '5.00', currency: 'USD' },
      payment_options: [
        { asset: 'USDC', network: 'evm-devnet' },
        { asset: 'ETH', network: 'evm-devnet' },
      ],
    });
    expect(created.status).toBe(201);
    const [usdc, eth] = created.body.payment_options;
    const page = await context.newPage();
    await page.goto(`${gw.url}/pay/${created.body.id}`);
    expect(await page.locator('.options a[aria-current]').textContent()).toContain('USDC');
    await page.locator('.options a', { hasText: 'ETH' }).click();
    await page.waitForURL(new RegExp(`option=${eth.id}`));
    expect(await page.locator('.options a[aria-current]').textContent()).toContain('ETH');
    expect(await page.locator('#amount-label').textContent()).toContain(`${eth.amount_due} ETH`);
    expect(usdc.id).not.toBe(eth.id);
    await screenshot(page, 'checkout-choose-option');
    expect(await seriousA11yViolations(page, 'checkout-options')).toEqual([]);
  }, 30_000);
});
