import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { storeTiersDirectly } from '../helpers/stored-tiers.ts';

describe.each(DATABASES)('invoices API on $name', ({ fresh }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(await fresh());
  });
  afterAll(async () => h?.close());

  it('creates an invoice with a fresh address per option, a locked rate and a policy snapshot', async () => {
    const res = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '10.00', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        merchant_order_id: 'order-1',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('awaiting_payment');
    const option = res.body.payment_options[0];
    expect(option.address).toMatch(/^bcrt1q/);
    // 10.00 USD at the fixed dev rate of 65000 USD/BTC, rounded up to the satoshi.
    expect(option.amount_due_base_units).toBe('15385');
    expect(option.rate).toMatchObject({ value: '65000', source: 'fixed' });
    expect(res.body.policy.expiry_seconds).toBe(900);
    const second = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '10.00', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    expect(second.body.payment_options[0].address).not.toBe(option.address);
  });

  it('records created → awaiting_payment with its event in the outbox', async () => {
    const res = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '0.001', currency: 'BTC' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    const id = res.body.id;
    expect(res.body.payment_options[0].amount_due_base_units).toBe('100000');
    expect(res.body.payment_options[0].rate).toBeNull();
    const transitions = await h.request('GET', `/v1/invoices/${id}/transitions`);
    expect(transitions.body.data.map((t: { from: string; to: string }) => `${t.from}>${t.to}`)).toEqual([
      'created>awaiting_payment',
    ]);
    const events = await h.request('GET', `/v1/invoices/${id}/events`);
    expect(events.body.data.map((e: { type: string }) => e.type)).toEqual(['invoice.awaiting_payment']);
    expect(events.body.data[0].data.invoice.id).toBe(id);
    expect(events.body.data[0].data.invoice.sequence).toBe(1);
  });

  it('lists with cursor pagination, newest first, without overlap', async () => {
    for (let i = 0; i < 5; i++) {
      await h.request('POST', '/v1/invoices', {
        body: {
          price: { amount: '1', currency: 'USD' },
          merchant_order_id: `page-${i}`,
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
    }
    const first = await h.request('GET', '/v1/invoices?limit=3');
    expect(first.body.data).toHaveLength(3);
    expect(first.body.has_more).toBe(true);
    const next = await h.request('GET', `/v1/invoices?limit=3&starting_after=${first.body.next_cursor}`);
    const ids = [...first.body.data, ...next.body.data].map((i: { id: string }) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort().reverse()).toEqual(ids);
    const byOrder = await h.request('GET', '/v1/invoices?merchant_order_id=page-2');
    expect(byOrder.body.data.map((i: { merchant_order_id: string }) => i.merchant_order_id)).toEqual([
      'page-2',
    ]);
  });

  it("lists one customer's invoices, newest first and paged, and no other merchant's", async () => {
    const create = (customer: string | undefined, token = h.token) =>
      h.request('POST', '/v1/invoices', {
        token,
        body: {
          price: { amount: '1', currency: 'USD' },
          ...(customer ? { customer_id: customer } : {}),
          payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        },
      });
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) mine.unshift((await create('cus-42')).body.id);
    await create('cus-7');
    await create(undefined);
    const other = await h.newMerchant('Another shop with a cus-42');
    await create('cus-42', other.token);
    const first = await h.request('GET', '/v1/invoices?customer_id=cus-42&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.has_more).toBe(true);
    const next = await h.request(
      'GET',
      `/v1/invoices?customer_id=cus-42&limit=2&starting_after=${first.body.next_cursor}`,
    );
    expect(next.body.has_more).toBe(false);
    expect([...first.body.data, ...next.body.data].map((i: { id: string }) => i.id)).toEqual(mine);
    expect((await h.request('GET', '/v1/invoices?customer_id=cus-none')).body.data).toEqual([]);
  });

  it('cancels an unpaid invoice idempotently, and refuses to cancel a failed one with 409', async () => {
    const inv = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '5', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    const cancel = await h.request('POST', `/v1/invoices/${inv.body.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    const again = await h.request('POST', `/v1/invoices/${inv.body.id}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body.sequence).toBe(cancel.body.sequence);
    const paid = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '5', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    await h.request('POST', `/v1/invoices/${paid.body.id}/actions`, {
      body: { action: 'mark_failed', reason: 'customer fraud report' },
    });
    const refused = await h.request('POST', `/v1/invoices/${paid.body.id}/cancel`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('invalid_state');
  });

  it('refuses fulfilment of an unpaid invoice, accepts it after mark_paid with a reason', async () => {
    const inv = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '5', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    const early = await h.request('POST', `/v1/invoices/${inv.body.id}/fulfilment`, {
      body: { reference: 'ship-1' },
    });
    expect(early.status).toBe(409);
    h.clock.advance(16 * 60_000);
    let ran = 0;
    for (let n = await h.worker.runDue(); n > 0; n = await h.worker.runDue()) ran += n;
    expect(ran).toBeGreaterThan(0);
    const expired = await h.request('GET', `/v1/invoices/${inv.body.id}`);
    expect(expired.body.status).toBe('expired');
    const noReason = await h.request('POST', `/v1/invoices/${inv.body.id}/actions`, {
      body: { action: 'mark_paid' },
    });
    expect(noReason.status).toBe(422);
    const marked = await h.request('POST', `/v1/invoices/${inv.body.id}/actions`, {
      body: { action: 'mark_paid', reason: 'paid by bank transfer, ref 991' },
    });
    expect(marked.body.status).toBe('paid');
    expect(marked.body.manually_paid).toBe(true);
    const done = await h.request('POST', `/v1/invoices/${inv.body.id}/fulfilment`, {
      body: { reference: 'ship-1' },
    });
    expect(done.status).toBe(200);
    expect(done.body.fulfilment.reference).toBe('ship-1');
    // A retry of the same report (its answer lost) gets the first report back, with no new event;
    // a report that says something else is refused, not silently dropped.
    const events = async () =>
      (await h.request('GET', `/v1/invoices/${inv.body.id}/events`)).body.data.length;
    const before = await events();
    const retry = await h.request('POST', `/v1/invoices/${inv.body.id}/fulfilment`, {
      body: { reference: 'ship-1' },
    });
    expect(retry.status).toBe(200);
    expect(retry.body.fulfilment).toEqual(done.body.fulfilment);
    expect(await events()).toBe(before);
    const other = await h.request('POST', `/v1/invoices/${inv.body.id}/fulfilment`, {
      body: { reference: 'ship-2' },
    });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('invalid_state');
    expect(other.body.error.message).toContain('"ship-1"');
    expect(other.body.error.details).toMatchObject({ reference: 'ship-1' });
    const after = await h.request('GET', `/v1/invoices/${inv.body.id}`);
    expect(after.body.fulfilment.reference).toBe('ship-1');
    const transitions = await h.request('GET', `/v1/invoices/${inv.body.id}/transitions`);
    const manual = transitions.body.data.find((t: { to: string }) => t.to === 'paid');
    expect(manual.reason).toBe('paid by bank transfer, ref 991');
    expect(manual.actor.kind).toBe('api_key');
  });

  it('takes a fulfilment report without a body, as it takes a cancel', async () => {
    const inv = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '5', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
      },
    });
    // Expired, then marked paid by an operator: the quickest paid invoice without a chain.
    h.clock.advance(16 * 60_000);
    for (let n = await h.worker.runDue(); n > 0; n = await h.worker.runDue());
    const marked = await h.request('POST', `/v1/invoices/${inv.body.id}/actions`, {
      body: { action: 'mark_paid', reason: 'paid by bank transfer, ref 992' },
    });
    expect(marked.body.status).toBe('paid');
    // A body that is there must still be an object: only its absence counts as {}.
    const notObject = await h.request('POST', `/v1/invoices/${inv.body.id}/fulfilment`, { body: [] });
    expect(notObject.status).toBe(422);
    const bare = await h.request('POST', `/v1/invoices/${inv.body.id}/fulfilment`);
    expect(bare.status).toBe(200);
    expect(bare.body.fulfilment).toMatchObject({ reference: null });
    expect(bare.body.fulfilled_at).not.toBeNull();
  });

  it('enforces scopes: a read-only key cannot create', async () => {
    const readOnly = await h.keyWithScopes(['invoices:read']);
    const res = await h.request('POST', '/v1/invoices', {
      token: readOnly,
      body: { price: { amount: '1', currency: 'USD' } },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    const none = await h.request('GET', '/v1/invoices', { token: null });
    expect(none.status).toBe(401);
  });

  it('refuses an extended private key without storing or echoing it', async () => {
    const xprv =
      'tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK';
    const { merchantId, token } = await h.newMerchant('fresh');
    const res = await h.request('POST', '/v1/wallets', {
      token,
      body: { scope: 'bitcoin-testnet', xpub: xprv },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('private_key_refused');
    expect(JSON.stringify(res.body)).not.toContain(xprv.slice(4, 30));
    const stored = await h.tally.database.db
      .selectFrom('wallets')
      .select('xpub')
      .where('merchant_id', '=', merchantId)
      .execute();
    expect(stored.some((w) => w.xpub.startsWith('tprv'))).toBe(false);
  });

  it('refuses an absurd price naming the field (no invoice written)', async () => {
    const res = await h.request('POST', '/v1/invoices', {
      body: { price: { amount: '99999999999999999999999999999999999999999999', currency: 'USD' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.issues[0]).toMatchObject({ path: 'price.amount' });
    expect(res.body.error.message).toMatch(/at most 1000000000000000 USD/);
  });

  it('offers only test networks by default in dev mode, never real-money ones with dev keys', async () => {
    const res = await h.request('POST', '/v1/invoices', {
      body: { price: { amount: '5', currency: 'USD' } },
    });
    expect(res.status).toBe(201);
    const networks = res.body.payment_options.map((o: { network: string }) => o.network).sort();
    expect(networks).toEqual(['bitcoin-regtest', 'evm-devnet']);
  });

  it("validates a per-invoice policy override merged with the merchant's policy", async () => {
    await h.request('PATCH', '/v1/merchant', {
      body: {
        policy: { confirmation_tiers: { 'bitcoin-regtest': [{ max_value: '10.50', confirmations: 1 }] } },
      },
    });
    const res = await h.request('POST', '/v1/invoices', {
      body: { price: { amount: '5', currency: 'JPY' }, policy: { value_currency: 'JPY' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.issues[0].path).toBe(
      'policy.confirmation_tiers.bitcoin-regtest[0].max_value',
    );
    await h.request('PATCH', '/v1/merchant', { body: { policy: { confirmation_tiers: {} } } });
  });

  it('says which letter case a currency, asset or network takes when it is sent in another', async () => {
    const send = (currency: string, option: object) =>
      h.request('POST', '/v1/invoices', {
        body: { price: { amount: '5', currency }, payment_options: [option] },
      });
    const cases = [
      [send('usd', { asset: 'BTC', network: 'bitcoin-regtest' }), 'price.currency', '"USD"'],
      [send('USD', { asset: 'btc', network: 'bitcoin-regtest' }), 'payment_options[0].asset', 'in capitals'],
      [
        send('USD', { asset: 'BTC', network: 'Bitcoin-Regtest' }),
        'payment_options[0].network',
        'in lower case',
      ],
    ] as const;
    for (const [response, path, words] of cases) {
      const res = await response;
      expect(res.status).toBe(422);
      expect(res.body.error.details.issues).toHaveLength(1);
      expect(res.body.error.details.issues[0].path).toBe(path);
      expect(res.body.error.details.issues[0].message).toContain(words);
    }
  });

  it('names the field of an unknown network, in an option or in a policy tier, and writes nothing', async () => {
    const count = async () => (await h.request('GET', '/v1/invoices?limit=100')).body.data.length;
    const before = await count();
    const option = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '5', currency: 'USD' },
        payment_options: [
          { asset: 'BTC', network: 'bitcoin-regtest' },
          { asset: 'BTC', network: 'foo' },
        ],
      },
    });
    expect(option.status).toBe(422);
    expect(option.body.error.code).toBe('unsupported_asset');
    expect(option.body.error.details.issues).toEqual([
      { path: 'payment_options[1].network', message: 'unknown network "foo"' },
    ]);
    const tier = await h.request('POST', '/v1/invoices', {
      body: {
        price: { amount: '5', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        policy: { confirmation_tiers: { 'bitcoin-regtst': [{ max_value: null, confirmations: 3 }] } },
      },
    });
    expect(tier.status).toBe(422);
    expect(tier.body.error.details.issues[0]).toMatchObject({
      path: 'policy.confirmation_tiers.bitcoin-regtst',
    });
    expect(await count()).toBe(before);
  });

  it('does not hold a tier stored before networks were checked against requests that do not send tiers', async () => {
    const { merchantId, token } = await h.newMerchant('legacy tiers');
    await storeTiersDirectly(h, merchantId, { 'bitcoin-mainnet': [{ max_value: null, confirmations: 6 }] });
    const invoice = await h.request('POST', '/v1/invoices', {
      token,
      body: {
        price: { amount: '5', currency: 'USD' },
        payment_options: [{ asset: 'BTC', network: 'bitcoin-regtest' }],
        policy: { underpayment_tolerance_bps: 10 },
      },
    });
    expect(invoice.status).toBe(201);
    const patched = await h.request('PATCH', '/v1/merchant', {
      token,
      body: { policy: { expiry_seconds: 600 } },
    });
    expect(patched.status).toBe(200);
    // Sending tiers replaces them, and what is sent is checked.
    const fixed = await h.request('PATCH', '/v1/merchant', {
      token,
      body: { policy: { confirmation_tiers: { bitcoin: [{ max_value: null, confirmations: 6 }] } } },
    });
    expect(fixed.status).toBe(200);
    expect(Object.keys(fixed.body.policy.confirmation_tiers)).toEqual(['bitcoin']);
  });
});
