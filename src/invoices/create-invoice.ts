import type { Tally } from '../context.ts';
import { TallyError, validationError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { MAX_BASE_UNITS, parseAmount } from '../core/money.ts';
import {
  type AssetDefinition,
  currencyDecimals,
  getAsset,
  getNetwork,
  listAssets,
} from '../core/registry.ts';
import { isPublicDevKey } from '../dev/dev-wallets.ts';
import { amountDue } from '../rates/convert.ts';
import { deriverFor } from '../wallets/address-pool.ts';
import { scopeOfNetwork } from '../wallets/families.ts';
import { creationContext } from './creation-context.ts';
import { invoiceWriterFor, type StoredResponseWrite } from './invoice-writer.ts';
import { mergePolicy, type PolicyInput, requiredConfirmations } from './policy.ts';
import { checkPolicyAmounts, checkTierNetworks } from './policy-check.ts';
import type { InvoiceRecord } from './record.ts';
import type { InvoiceJson } from './serialize.ts';
import type { PaymentOption, RateUsed } from './types.ts';

/**
 * The demo wallets' keys come from a public test mnemonic (src/dev/dev-wallets.ts): anyone can spend
 * what is paid to them. In production mode they serve local devnets and public test networks only:
 * an option on a network with real money is refused rather than shown to a customer, whether asked
 * for by name or offered by default (a gateway switched to production on its dev database would
 * offer mainnets). Dev mode, a playground whose tests stand anvil in for mainnets, allows them.
 */
function refusePublicKeyForRealMoney(
  tally: Tally,
  network: string,
  xpub: string,
  scope: string,
  path: string,
): void {
  if (tally.config.mode !== 'production') return;
  const net = getNetwork(network);
  if (net.local || net.testnet || !isPublicDevKey(xpub)) return;
  const message = `the ${scope} wallet holds a public demo key, which serves test networks only`;
  throw new TallyError(
    'no_wallet',
    `The ${scope} wallet holds a public demo key (anyone can spend from it), so it cannot take payments on ${network}; add a wallet with your own key first.`,
    { issues: [{ path, message }] },
  );
}

/** No real invoice is priced above a quadrillion units of its currency; larger is a bug or an attack. */
export const MAX_PRICE_MAJOR_UNITS = 10n ** 15n;

export interface CreateInvoiceInput {
  price: { amount: string; currency: string };
  payment_options?: Array<{ asset: string; network: string }> | undefined;
  merchant_order_id?: string | undefined;
  customer_id?: string | undefined;
  description?: string | undefined;
  metadata?: Record<string, string> | undefined;
  expires_in_seconds?: number | undefined;
  success_url?: string | undefined;
  cancel_url?: string | undefined;
  policy?: PolicyInput | undefined;
}

interface PlannedOption {
  asset: AssetDefinition;
  amountDue: bigint;
  rate: RateUsed | null;
  walletId: string;
  scope: string;
  xpub: string;
  /** The wallet's stored script type: a Taproot wallet's addresses differ from a P2WPKH one's. */
  scriptType: string;
}

/**
 * Creates an invoice. Everything that can fail for outside reasons (validation, wallets, rates)
 * happens here, before any write, so a failure leaves nothing behind. The plan then goes to the
 * batch writer (invoice-writer.ts): one durable transaction allocates its addresses, inserts it
 * with its options, records created → awaiting_payment with its event, schedules expiry, and
 * (when given) stores the idempotent response.
 */
export async function createInvoice(
  tally: Tally,
  merchantId: string,
  input: CreateInvoiceInput,
  storeResponse?: StoredResponseWrite,
): Promise<InvoiceJson> {
  const scopesAsked = (input.payment_options ?? []).map((o, i) => {
    getNetwork(o.network, `payment_options[${i}].network`);
    return scopeOfNetwork(o.network);
  });
  const { merchant, wallets } = await creationContext(tally, merchantId, scopesAsked);
  // The override's own tier networks; amounts are checked on the merged policy below.
  checkTierNetworks(input.policy);
  const policy = mergePolicy(merchant.policy, input.policy);
  // The merged policy, not the override alone: an override's currency must fit the merchant's tiers.
  if (input.policy) checkPolicyAmounts(policy, policy.value_currency);
  if (input.expires_in_seconds !== undefined) policy.expiry_seconds = input.expires_in_seconds;

  const priceDecimals = currencyDecimals(input.price.currency);
  if (priceDecimals === undefined) {
    throw validationError([
      { path: 'price.currency', message: `unknown currency "${input.price.currency}"` },
    ]);
  }
  const price = parseAmount(input.price.amount, priceDecimals, 'price.amount');
  if (price === 0n) throw validationError([{ path: 'price.amount', message: 'must be greater than zero' }]);
  if (price > MAX_PRICE_MAJOR_UNITS * 10n ** BigInt(priceDecimals)) {
    throw validationError([
      { path: 'price.amount', message: `must be at most ${MAX_PRICE_MAJOR_UNITS} ${input.price.currency}` },
    ]);
  }

  const walletByScope = new Map(wallets.map((w) => [w.scope, w]));
  const requested =
    input.payment_options ??
    listAssets()
      // By default the native coin of every network the merchant has a wallet for: the local devnets
      // in dev mode and real networks in production, so dev keys are never offered for real money.
      // Public testnets are offered only when asked for.
      .filter((a) => a.contract === null && walletByScope.has(scopeOfNetwork(a.network)))
      .filter((a) => {
        const net = getNetwork(a.network);
        return tally.config.mode === 'dev' ? net.local : !net.testnet;
      })
      .map((a) => ({ asset: a.code, network: a.network }));
  if (requested.length === 0) throw new TallyError('no_wallet', 'Add a wallet before creating invoices.');

  const seen = new Set<string>();
  const planned: PlannedOption[] = [];
  for (const [i, want] of requested.entries()) {
    const key = `${want.asset}/${want.network}`;
    if (seen.has(key)) throw validationError([{ path: `payment_options[${i}]`, message: 'is listed twice' }]);
    seen.add(key);
    const asset = getAsset(want.asset, want.network, `payment_options[${i}]`);
    const scope = scopeOfNetwork(want.network);
    const wallet = walletByScope.get(scope);
    if (!wallet) {
      throw new TallyError('no_wallet', `No wallet for ${want.network}; add a ${scope} wallet first.`, {
        issues: [{ path: `payment_options[${i}].network`, message: `has no ${scope} wallet` }],
      });
    }
    refusePublicKeyForRealMoney(tally, want.network, wallet.xpub, scope, `payment_options[${i}].network`);
    let due: bigint;
    let rate: RateUsed | null = null;
    if (input.price.currency === asset.code) {
      due = price;
    } else {
      const quote = await tally.rates.getQuote(asset.quoteAs ?? asset.code, input.price.currency);
      due = amountDue(price, priceDecimals, quote.value, asset.decimals);
      rate = { value: quote.value, source: quote.source, fetchedAt: quote.fetchedAt };
    }
    if (due > MAX_BASE_UNITS) {
      throw validationError([{ path: 'price.amount', message: `is too large to pay in ${asset.code}` }]);
    }
    if (due <= 0n)
      throw validationError([{ path: 'price.amount', message: `is too small to pay in ${asset.code}` }]);
    planned.push({
      asset,
      amountDue: due,
      rate,
      walletId: wallet.id,
      scope,
      xpub: wallet.xpub,
      scriptType: wallet.script_type,
    });
  }

  const now = tally.clock.now();
  const expiresAt = new Date(now.getTime() + policy.expiry_seconds * 1000);
  const options: PaymentOption[] = planned.map((p) => {
    const decision = requiredConfirmations(policy, p.asset.network, price, input.price.currency);
    return {
      id: newId('opt'),
      asset: p.asset.code,
      network: p.asset.network,
      address: '', // allocated in the write transaction
      derivationIndex: -1,
      walletId: p.walletId,
      amountDue: p.amountDue,
      decimals: p.asset.decimals,
      requiredConfirmations: decision.requiredConfirmations,
      zeroConfAllowed: decision.zeroConfAllowed,
      confirmationReason: decision.reason,
      rate: p.rate,
    };
  });
  const record: InvoiceRecord = {
    id: newId('inv'),
    merchantId,
    status: 'created',
    createdAt: now,
    expiresAt,
    policy: {
      underpaymentToleranceBps: policy.underpayment_tolerance_bps,
      overpaymentToleranceBps: policy.overpayment_tolerance_bps,
      monitoringWindowSeconds: policy.monitoring_window_seconds,
    },
    policySnapshot: policy,
    options,
    payments: [],
    selectedOptionId: null,
    refundedAmount: 0n,
    manuallyPaid: false,
    sequence: 0,
    merchantOrderId: input.merchant_order_id ?? null,
    customerId: input.customer_id ?? null,
    description: input.description ?? null,
    priceAmount: price,
    priceCurrency: input.price.currency,
    metadata: input.metadata ?? {},
    successUrl: input.success_url ?? null,
    cancelUrl: input.cancel_url ?? null,
    fulfilledAt: null,
    fulfilment: null,
    updatedAt: now,
    version: 0,
  };
  const derivers = new Map(
    planned.map((p) => [
      p.walletId,
      deriverFor({ id: p.walletId, scope: p.scope, xpub: p.xpub, script_type: p.scriptType }),
    ]),
  );
  return invoiceWriterFor(tally).submit({ record, derivers, ...(storeResponse ? { storeResponse } : {}) });
}
