/**
 * PSBT derivations with a wallet's key origin: with `[fingerprint/84'/1'/0']` known, each input's
 * bip32 derivation names the master key's fingerprint and the full path from it, so a signer that
 * holds only the seed's master key (as hardware wallets and Bitcoin Core do) signs it through
 * @scure/btc-signer's HD signing, which finds its keys by exactly that fingerprint and path.
 * Without an origin nothing changes: the account key's fingerprint and `0/<index>`.
 */
import { HDKey } from '@scure/bip32';
import * as btc from '@scure/btc-signer';
import { describe, expect, it } from 'vitest';
import { buildPsbt, changeAddress, type WalletKey } from '../../src/refunds/bitcoin-psbt.ts';
import { keyOriginOf, validateKeyOrigin } from '../../src/wallets/key-origin.ts';

const TEST_VERSIONS = { private: 0x04358394, public: 0x043587cf };
/** A fixed seed's master key: the signer. Tally only ever sees account xpubs derived from it. */
const master = HDKey.fromMasterSeed(new Uint8Array(32).fill(7), TEST_VERSIONS);
const fingerprint = master.fingerprint.toString(16).padStart(8, '0');
const H = 0x8000_0000;
/** @scure/bip32's HDKey as btc-signer's HD signer (the same shape; its types differ on nullability). */
const signer = (key: HDKey) => key as unknown as Parameters<btc.Transaction['sign']>[0];
const CUSTOMER = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

function wallet(scriptType: string, purpose: number, withOrigin: boolean): WalletKey {
  const account = `m/${purpose}'/1'/0'`;
  const xpub = master.derive(account).publicExtendedKey;
  const origin = withOrigin
    ? validateKeyOrigin(xpub, { master_fingerprint: fingerprint, account_path: account }, 'bitcoin')
    : null;
  return { xpub, scriptType, origin: origin ? keyOriginOf(origin) : null };
}

/** A refund of one input at /0/3 with change to /1/3, as an invoice's refund is built. */
function psbtFor(w: WalletKey): btc.Transaction {
  const built = buildPsbt({
    networkId: 'bitcoin-regtest',
    wallet: w,
    inputs: [{ txid: 'aa'.repeat(32), vout: 0, amount: 100_000n, index: 3 }],
    pay: [{ address: CUSTOMER, amount: 40_000n, role: 'refund' }],
    remainderTo: { address: changeAddress(w, 3, 'bitcoin-regtest'), amount: 0n, role: 'change' },
    feeRate: '2',
  });
  return btc.Transaction.fromPSBT(Buffer.from(built.psbt, 'base64'));
}

describe.each([
  ['p2wpkh', 84],
  ['p2sh-p2wpkh', 49],
  ['p2tr', 86],
] as const)('a %s wallet', (scriptType, purpose) => {
  const derivation = (tx: btc.Transaction) => {
    const input = tx.getInput(0);
    if (scriptType === 'p2tr') {
      const der = input.tapBip32Derivation?.[0]?.[1].der;
      return { fingerprint: der?.fingerprint, path: der?.path };
    }
    const der = input.bip32Derivation?.[0]?.[1];
    return { fingerprint: der?.fingerprint, path: der?.path };
  };

  it('with a key origin: the master fingerprint and the full path, and the master key signs it', () => {
    const tx = psbtFor(wallet(scriptType, purpose, true));
    expect(derivation(tx)).toEqual({
      fingerprint: master.fingerprint,
      path: [purpose + H, 1 + H, 0 + H, 0, 3],
    });
    // The signer knows only its seed: it finds the key by fingerprint and path, derives, signs.
    expect(tx.sign(signer(master))).toBe(1);
    tx.finalize();
    expect(tx.isFinal).toBe(true);
    // The account key alone no longer matches the fingerprint: a derivation names one key.
    const again = psbtFor(wallet(scriptType, purpose, true));
    expect(() => again.sign(signer(master.derive(`m/${purpose}'/1'/0'`)))).toThrow(/No inputs signed/);
  });

  it('without one: unchanged, the account key signs it and the master key cannot', () => {
    const tx = psbtFor(wallet(scriptType, purpose, false));
    const account = master.derive(`m/${purpose}'/1'/0'`);
    expect(derivation(tx)).toEqual({ fingerprint: account.fingerprint, path: [0, 3] });
    expect(() => psbtFor(wallet(scriptType, purpose, false)).sign(signer(master))).toThrow(
      /No inputs signed/,
    );
    expect(tx.sign(signer(account))).toBe(1);
    tx.finalize();
    expect(tx.isFinal).toBe(true);
  });
});

describe('validateKeyOrigin', () => {
  const xpub = master.derive("m/84'/1'/0'").publicExtendedKey;
  const check = (input: { master_fingerprint?: string; account_path?: string }, family = 'bitcoin') => {
    try {
      return validateKeyOrigin(xpub, input, family);
    } catch (error) {
      const e = error as { code: string; details: { issues: Array<{ path: string }> } };
      return { code: e.code, field: e.details.issues[0]?.path };
    }
  };

  it('normalises: lowercase fingerprint, apostrophes for hardened (h accepted)', () => {
    expect(check({ master_fingerprint: fingerprint.toUpperCase(), account_path: 'm/84h/1H/0h' })).toEqual({
      master_fingerprint: fingerprint,
      account_path: "m/84'/1'/0'",
    });
    expect(check({})).toBeNull();
  });

  it.each([
    [{ master_fingerprint: fingerprint }, 'account_path'],
    [{ account_path: "m/84'/1'/0'" }, 'master_fingerprint'],
    [{ master_fingerprint: 'd34db33', account_path: "m/84'/1'/0'" }, 'master_fingerprint'],
    [{ master_fingerprint: 'g34db33f', account_path: "m/84'/1'/0'" }, 'master_fingerprint'],
    [{ master_fingerprint: fingerprint, account_path: "84'/1'/0'" }, 'account_path'],
    [{ master_fingerprint: fingerprint, account_path: "m/84'/1'" }, 'account_path'], // too shallow
    [{ master_fingerprint: fingerprint, account_path: "m/84'/1'/1'" }, 'account_path'], // not this key
    [{ master_fingerprint: fingerprint, account_path: 'm/84/1/0' }, 'account_path'], // not hardened
    [{ master_fingerprint: fingerprint, account_path: "m/84'/1'/2147483648'" }, 'account_path'],
  ])('refuses %j naming %s', (input, field) => {
    expect(check(input)).toEqual({ code: 'validation_failed', field });
  });

  it('refuses an origin on an EVM wallet, and a wrong master at depth 1', () => {
    expect(check({ master_fingerprint: fingerprint, account_path: "m/84'/1'/0'" }, 'evm')).toEqual({
      code: 'validation_failed',
      field: 'master_fingerprint',
    });
    const depth1 = master.derive("m/0'").publicExtendedKey;
    expect(() =>
      validateKeyOrigin(depth1, { master_fingerprint: 'd34db33f', account_path: "m/0'" }, 'bitcoin'),
    ).toThrow(/parent/);
    expect(
      validateKeyOrigin(depth1, { master_fingerprint: fingerprint, account_path: "m/0'" }, 'bitcoin'),
    ).toEqual({
      master_fingerprint: fingerprint,
      account_path: "m/0'",
    });
  });
});
