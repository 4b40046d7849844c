import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from '../helpers/axe.ts';
import { launchBrowser, screenshot } from '../helpers/browser.ts';
import { PASSWORD, startWebGateway, type WebGateway } from '../helpers/web-gateway.ts';

/**
 * The dashboard in a real Chromium against the real gateway and devnet: an invoice paid on the
 * devnet is found by its order id and its timeline read; support sees and uses support actions but
 * not dangerous ones (and the server refuses a forged one); finance reads, exports and reads the
 * audit log but cannot act; an admin's dangerous action needs its reason and lands in the log.
 */
describe('dashboard in Chromium', () => {
  let gw: WebGateway;
  let browser: Browser;
  let invoiceId = '';
  let txid = '';
  beforeAll(async () => {
    [gw, browser] = await Promise.all([startWebGateway(), launchBrowser()]);
    const created = await gw.api('POST', '/v1/invoices', {
      price: { amount: '30.00', currency: 'USD' },
      payment_options: [{ asset: 'USDC', network: 'evm-devnet' }],
      merchant_order_id: 'D-2001',
    });
    expect(created.status).toBe(201);
    invoiceId = created.body.id;
    const paid = await gw.api('POST', `/v1/dev/invoices/${invoiceId}/pay`);
    expect(paid.status).toBe(200);
    txid = paid.body.txid;
    for (let i = 0; i < 200; i++) {
      if ((await gw.api('GET', `/v1/invoices/${invoiceId}`)).body.status === 'paid') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the devnet payment never made the invoice paid');
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  async function signIn(role: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${gw.url}/dashboard`);
    expect(page.url()).toContain('/dashboard/login');
    expect(await seriousA11yViolations(page, 'dashboard-login')).toEqual([]);
    await page.fill('#email', `${role}@shop.test`);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${gw.url}/dashboard`);
    expect(await page.locator('header').textContent()).toContain(`${role}@shop.test (${role})`);
    return page;
  }

  /** A form post from inside the signed-in page, with or without its CSRF token. */
  async function postAction(page: Page, fields: Record<string, string>, withToken = true) {
    // A string, not a function: this project's type check has no DOM library.
    const args = JSON.stringify([`/dashboard/invoices/${invoiceId}/actions`, fields, withToken]);
    return page.evaluate<number>(`(async ([url, fields, withToken]) => {
      const body = new URLSearchParams(fields);
      const token = document.querySelector('input[name=_csrf]');
      if (withToken && token) body.set('_csrf', token.value);
      const res = await fetch(url, { method: 'POST', body, redirect: 'manual' });
      return res.status;
    })(${args})`);
  }

  it('support finds the invoice by order id and by tx hash, reads its timeline, and acts within its role', async () => {
    const page = await signIn('support');
    expect(await page.locator('[data-queue=paid_unfulfilled]').textContent()).toBe('1');
    expect(await seriousA11yViolations(page, 'dashboard-queue')).toEqual([]);
    await page.fill('#q', 'D-2001');
    await page.press('#q', 'Enter');
    await page.locator('#results a', { hasText: invoiceId }).click();
    await page.waitForURL(`${gw.url}/dashboard/invoices/${invoiceId}`);
    expect(await page.locator('#invoice-status').textContent()).toBe('paid');
    const transitions = await page.locator('#transitions').textContent();
    expect(transitions).toContain('awaiting_payment');
    expect(transitions).toContain('paid');
    expect(await page.locator('body').textContent()).toContain(txid);
    expect(await page.locator('#support-actions').count()).toBe(1);
    expect(await page.locator('#dangerous-actions').count()).toBe(0);

    await page.fill('[data-action=mark_review] textarea', 'customer says the amount looked wrong');
    await page.click('[data-action=mark_review] button');
    await page.waitForURL(/done=mark_review/);
    expect(await page.locator('#notes').textContent()).toContain('customer says the amount looked wrong');
    await screenshot(page, 'dashboard-support-timeline');
    expect(await seriousA11yViolations(page, 'dashboard-timeline')).toEqual([]);

    // The server, not the page, enforces the role: a forged dangerous action is refused.
    expect(await postAction(page, { action: 'mark_failed', reason: 'forged' })).toBe(403);
    // And without the CSRF token even a permitted action is refused.
    expect(await postAction(page, { action: 'mark_review', reason: 'no token' }, false)).toBe(403);

    await page.goto(`${gw.url}/dashboard/search?q=${txid}`);
    expect(await page.locator('#results').textContent()).toContain(invoiceId);
  }, 60_000);

  it('finance reads and exports but cannot act; the audit log shows who did what and verifies', async () => {
    const page = await signIn('finance');
    await page.goto(`${gw.url}/dashboard/invoices/${invoiceId}`);
    expect(await page.locator('#invoice-status').textContent()).toBe('paid');
    expect(await page.locator('#support-actions').count()).toBe(0);
    expect(await page.locator('#dangerous-actions').count()).toBe(0);
    expect(await postAction(page, { action: 'mark_review', reason: 'finance tries' })).toBe(403);

    const csv = await page.request.get(`${gw.url}/dashboard/export.csv`);
    expect(csv.status()).toBe(200);
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toBe(
      'invoice_id,merchant_order_id,status,price_amount,price_currency,asset,network,amount_due,amount_credited,uncredited_payments,created_at,expires_at,fulfilled_at',
    );
    expect(text).toContain(`${invoiceId},D-2001,paid,30.00,USD,USDC,evm-devnet,30,30,0,`);

    await page.goto(`${gw.url}/dashboard/audit`);
    expect(await page.locator('#chain').textContent()).toMatch(/^Chain verified: \d+ entries/);
    const audit = await page.locator('#audit').textContent();
    expect(audit).toContain('invoice.mark_review');
    expect(audit).toContain('support@shop.test');
    expect(audit).toContain('invoices.export');
    await screenshot(page, 'dashboard-finance-audit');
    expect(await seriousA11yViolations(page, 'dashboard-audit')).toEqual([]);
    const settings = await page.request.get(`${gw.url}/dashboard/settings`);
    expect(settings.status()).toBe(403);
  }, 60_000);

  it('an admin marks an unpaid invoice failed with a written reason; the timeline and the log carry it', async () => {
    const created = await gw.api('POST', '/v1/invoices', {
      price: { amount: '3.00', currency: 'USD' },
      payment_options: [{ asset: 'USDC', network: 'evm-devnet' }],
      merchant_order_id: 'D-2002',
    });
    const id = created.body.id;
    const page = await signIn('admin');
    await page.goto(`${gw.url}/dashboard/invoices/${id}`);
    expect(await page.locator('#dangerous-actions').count()).toBe(1);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.fill('[data-action=mark_failed] textarea', 'customer cancelled by phone');
    await page.click('[data-action=mark_failed] button');
    await page.waitForURL(/done=mark_failed/);
    expect(await page.locator('#invoice-status').textContent()).toBe('failed');
    expect(await page.locator('#transitions').textContent()).toContain('customer cancelled by phone');
    await screenshot(page, 'dashboard-admin-mark-failed');
    expect(await seriousA11yViolations(page, 'dashboard-timeline-admin')).toEqual([]);
    await page.goto(`${gw.url}/dashboard/settings`);
    expect(await page.locator('#wallets').textContent()).toContain('evm');
    await screenshot(page, 'dashboard-settings');
    expect(await seriousA11yViolations(page, 'dashboard-settings')).toEqual([]);
    // A key made in the page: its token is shown once, on the answer to the form.
    const form = page.locator('[data-action=api_key_create]');
    await form.locator('#key-name').fill('reporting job');
    await form.locator('input[name="scope.invoices:read"]').check();
    await form.locator('input[name=reason]').fill('nightly sales report');
    await form.locator('button').click();
    expect(await page.locator('#secret-value').textContent()).toMatch(/^tally_sk_key_/);
    await screenshot(page, 'dashboard-settings-secret-once');
    expect(await seriousA11yViolations(page, 'dashboard-settings-secret')).toEqual([]);
    await page.goto(`${gw.url}/dashboard/settings`);
    expect(await page.locator('#secret-value').count()).toBe(0);
    expect(await page.locator('#api-keys').textContent()).toContain('reporting job');
  }, 60_000);
});
