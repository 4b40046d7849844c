/**
 * The shared set-up of the EVM money tests (refunds, sweeps, outflows) against anvil as Polygon:
 * a merchant whose EVM wallet is an account of the dev mnemonic (one account per database leg, so
 * the legs never share addresses on the shared anvil; Tally holds only the xpub), its requester and
 * admin keys, invoices paid by the test customer and made final, and signing as the merchant's
 * wallet would.
 */
import { pbkdf2Sync } from 'node:crypto';
import { HDKey } from '@scure/bip32';
import { type Hex, parseTransaction } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { createApiKey } from '../../src/auth/api-keys.ts';
import { createMerchant } from '../../src/auth/merchants.ts';
import { API_SCOPES } from '../../src/auth/scopes.ts';
import { DEV_ACCOUNTS, mint, sendNative, transferToken } from '../../src/dev/evm-tools.ts';
import { addWallet } from '../../src/wallets/wallet-service.ts';
import { type EvmChain, type EvmHarness, startEvmChain } from './evm-e2e.ts';

const SEED = pbkdf2Sync(
  'test test test test test test test test test test test junk',
  'mnemonic',
  2048,
  64,
  'sha512',
);

/** The merchant's EVM account key (m/44'/60'/<leg>'/0). */
export const merchantAccountKey = (leg: number) => HDKey.fromMasterSeed(SEED).derive(`m/44'/60'/${leg}'/0`);

/** anvil as Polygon (chain id 137, test USDC at Polygon's USDC address), the customer funded. */
export async function startPolygonWithUsdc(): Promise<EvmChain> {
  const polygon = await startEvmChain('polygon');
  await mint(polygon.rpc, polygon.tokens.USDC as string, DEV_ACCOUNTS.customer, 1_000_000_000n);
  return polygon;
}

export interface MoneyMerchant {
  merchantId: string;
  /** All API scopes: requests refunds. */
  token: string;
  /** Admin: approves them (four eyes: a different key). */
  approver: string;
}

export async function evmMoneyMerchant(
  h: EvmHarness,
  polygon: EvmChain,
  leg: number,
  name: string,
): Promise<MoneyMerchant> {
  const m = await createMerchant(h.tally.database.db, name, h.clock.now());
  await addWallet(h.tally, m.id, { scope: 'evm', xpub: merchantAccountKey(leg).publicExtendedKey });
  const token = (await createApiKey(h.tally.database.db, m.id, 'requester', API_SCOPES, h.clock.now())).token;
  const approver = (await createApiKey(h.tally.database.db, m.id, 'approver', ['admin'], h.clock.now()))
    .token;
  // The builders ask the network's node for nonce, gas and fees, as TALLY_EVM_RPC configures.
  (h.tally.config as { evmRpc: string }).evmRpc = `polygon=${polygon.anvil.url}`;
  return { merchantId: m.id, token, approver };
}

export interface PaidInvoice {
  id: string;
  address: string;
  due: bigint;
  /** The derivation index of its address: the merchant's key for it is the account key's child. */
  index: number;
  status: string;
}

/**
 * An invoice priced 10 USD in USDC, or 1 POL in POL, paid by the customer (`extra` more than due)
 * and made final (Polygon's rule: 64 blocks).
 */
export async function payPolygonInvoice(
  h: EvmHarness,
  polygon: EvmChain,
  token: string,
  asset: 'USDC' | 'POL',
  extra = 0n,
): Promise<PaidInvoice> {
  const created = await h.request('POST', '/v1/invoices', {
    token,
    body: {
      price: asset === 'USDC' ? { amount: '10.00', currency: 'USD' } : { amount: '1', currency: 'POL' },
      payment_options: [{ asset, network: 'polygon' }],
    },
  });
  const option = created.body.payment_options[0];
  const id = created.body.id as string;
  const address = option.address as string;
  const due = BigInt(option.amount_due_base_units);
  if (asset === 'USDC')
    await transferToken(
      polygon.rpc,
      polygon.tokens.USDC as string,
      DEV_ACCOUNTS.customer,
      address,
      due + extra,
    );
  else await sendNative(polygon.rpc, DEV_ACCOUNTS.customer, address, due + extra);
  await h.sync();
  await polygon.mine(64);
  await h.sync();
  const row = await h.tally.database.db
    .selectFrom('payment_options')
    .select('derivation_index')
    .where('invoice_id', '=', id)
    .executeTakeFirstOrThrow();
  const status = (await h.request('GET', `/v1/invoices/${id}`, { token })).body.status as string;
  return { id, address, due, index: row.derivation_index, status };
}

export interface SentTransaction<R> {
  hash: Hex;
  raw: Hex;
  receipt: R;
}

/**
 * Signs an unsigned transaction as the merchant's wallet would (the key of the address's derivation
 * index), broadcasts it and waits for its (automined) receipt, whatever its status.
 */
export async function signAsMerchant<R extends { status: string }>(
  polygon: EvmChain,
  unsigned: Hex,
  leg: number,
  index: number,
): Promise<SentTransaction<R>> {
  const key = merchantAccountKey(leg).deriveChild(index).privateKey;
  if (!key) throw new Error('no key');
  const account = privateKeyToAccount(`0x${Buffer.from(key).toString('hex')}`);
  const raw = await account.signTransaction(parseTransaction(unsigned) as never);
  const hash = await polygon.rpc.call<Hex>('eth_sendRawTransaction', [raw]);
  for (let i = 0; i < 200; i++) {
    const receipt = await polygon.rpc.call<R | null>('eth_getTransactionReceipt', [hash]);
    if (receipt) return { hash, raw, receipt };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('not mined');
}

/** A ledger balance through the API, in base units (0 when the account has no entries). */
export async function ledgerBalance(
  h: EvmHarness,
  token: string,
  account: string,
  asset: string,
): Promise<bigint> {
  const rows = (await h.request('GET', '/v1/ledger/balances', { token })).body.data as Array<{
    account: string;
    asset: string;
    balance_base_units: string;
  }>;
  return BigInt(rows.find((b) => b.account === account && b.asset === asset)?.balance_base_units ?? '0');
}

/** `GET /v1/ledger/verify`: every transaction balances, every invoice has exactly its entries. */
export async function ledgerVerify(h: EvmHarness, token: string) {
  return (await h.request('GET', '/v1/ledger/verify', { token })).body;
}
