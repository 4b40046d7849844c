/**
 * Our signer against the Standard Webhooks specification's published test vector and the official
 * `standardwebhooks` library, including the two-signature header sent during a secret rotation.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, isWebhookSecret, sign, webhookHeaders } from '../../src/webhooks/signature.ts';

// From the specification (standard-webhooks/spec/standard-webhooks.md, "Signature scheme").
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signatures', () => {
  it('reproduces the specification test vector', () => {
    expect(sign(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('agrees with the official library on the vector', () => {
    const wh = new Webhook(VECTOR.secret);
    expect(wh.sign(VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.body)).toBe(VECTOR.signature);
  });

  it('makes secrets the official library accepts and verifies against', () => {
    const secret = generateSecret();
    expect(isWebhookSecret(secret)).toBe(true);
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ id: 'evt_1', type: 'invoice.paid', amount: '0.00015385' });
    const headers = webhookHeaders([secret], 'evt_1', now, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('during a rotation sends both signatures, and a receiver on either secret verifies', () => {
    const [current, previous] = [generateSecret(), generateSecret()];
    const now = Math.floor(Date.now() / 1000);
    const body = '{"id":"evt_2"}';
    const headers = webhookHeaders([current, previous], 'evt_2', now, body);
    expect((headers['webhook-signature'] ?? '').split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual({ id: 'evt_2' });
    expect(new Webhook(previous).verify(body, headers)).toEqual({ id: 'evt_2' });
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('a changed body, id or timestamp fails verification', () => {
    const secret = generateSecret();
    const now = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders([secret], 'evt_3', now, '{"a":1}');
    const wh = new Webhook(secret);
    expect(() => wh.verify('{"a":2}', headers)).toThrow();
    expect(() => wh.verify('{"a":1}', { ...headers, 'webhook-id': 'evt_4' })).toThrow();
    expect(() => wh.verify('{"a":1}', { ...headers, 'webhook-timestamp': String(now + 1) })).toThrow();
  });
});
