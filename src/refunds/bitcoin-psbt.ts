import * as btc from '@scure/btc-signer';
import { TallyError } from '../core/errors.ts';
import { divCeil, formatAmount } from '../core/money.ts';
import { hdKey } from '../wallets/families.ts';
import type { KeyOrigin } from '../wallets/key-origin.ts';

/**
 * Unsigned Bitcoin transactions for the merchant's signer (docs/decisions/0011): a PSBT (BIP174)
 * spending invoice-address outputs, with everything a signer needs to sign them blind — the
 * output being spent (witnessUtxo), the redeem script (P2SH-P2WPKH) or internal key (Taproot), and
 * each key's BIP32 derivation: with the wallet's key origin, the master fingerprint and the full
 * path from the master (what hardware wallets and Bitcoin Core match); without one, the account
 * key's fingerprint and the path below it. Tally never sees a private key.
 */
export const BITCOIN_NETWORKS: Record<string, typeof btc.NETWORK> = {
  bitcoin: btc.NETWORK,
  'bitcoin-testnet': btc.TEST_NETWORK,
  'bitcoin-regtest': { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef },
};

/** Outputs below this are non-standard (dust) for every script type; change that small goes to the fee. */
export const DUST_LIMIT = 546n;

export interface SpendableOutput {
  txid: string;
  vout: number;
  amount: bigint;
  /** Derivation index of the invoice address on the wallet's receive chain (/0/index). */
  index: number;
}

export interface WalletKey {
  xpub: string;
  scriptType: string;
  /** Where the xpub sits below the signer's master key (src/wallets/key-origin.ts), if known. */
  origin?: KeyOrigin | null;
}

export interface PlannedOutput {
  address: string;
  amount: bigint;
  role: 'refund' | 'change' | 'sweep';
}

export interface BuiltPsbt {
  psbt: string;
  /** The unsigned transaction's id: final for SegWit v0/v1 inputs, which sign outside the txid. */
  txid: string;
  vsize: number;
  fee: bigint;
  inputs: Array<{ outpoint: string; amount: bigint }>;
  outputs: PlannedOutput[];
}

function network(id: string): typeof btc.NETWORK {
  const net = BITCOIN_NETWORKS[id];
  if (!net) throw new TallyError('unsupported_asset', `No Bitcoin network ${id}.`);
  return net;
}

/** The payment script (and what a signer needs) of a wallet key at chain/index. */
function payment(wallet: WalletKey, chain: 0 | 1, index: number, net: typeof btc.NETWORK) {
  const child = hdKey(wallet.xpub).deriveChild(chain).deriveChild(index);
  const pub = child.publicKey;
  if (!pub) throw new TallyError('internal', 'derived key has no public key');
  // With a key origin the derivation starts at the master key, as a real signer expects it.
  const path = wallet.origin ? [...wallet.origin.path, chain, index] : [chain, index];
  const fingerprint = wallet.origin ? wallet.origin.fingerprint : hdKey(wallet.xpub).fingerprint;
  switch (wallet.scriptType) {
    case 'p2wpkh':
      return { pay: btc.p2wpkh(pub, net), pub, path, fingerprint, inputVbytes: 68 };
    case 'p2sh-p2wpkh':
      return { pay: btc.p2sh(btc.p2wpkh(pub, net), net), pub, path, fingerprint, inputVbytes: 91 };
    case 'p2tr':
      return { pay: btc.p2tr(pub.subarray(1), undefined, net), pub, path, fingerprint, inputVbytes: 58 };
    default:
      throw new TallyError('internal', `No spending rule for script type ${wallet.scriptType}`);
  }
}

/** The wallet's change address for an invoice: the same index on the internal chain (/1/index). */
export function changeAddress(wallet: WalletKey, index: number, networkId: string): string {
  const address = payment(wallet, 1, index, network(networkId)).pay.address;
  if (!address) throw new TallyError('internal', 'no change address');
  return address;
}

/** Virtual size: 10.5 vB of version/locktime/counts and the SegWit marker, inputs, 9 vB + script per output. */
function estimateVsize(inputVbytes: number[], outputScripts: Uint8Array[]): number {
  return Math.ceil(
    10.5 + inputVbytes.reduce((s, v) => s + v, 0) + outputScripts.reduce((s, o) => s + 9 + o.length, 0),
  );
}

/** sat/vB as a decimal string ("2", "1.5") → fee for `vsize`, rounded up. */
export function feeFor(vsize: number, feeRate: string): bigint {
  const match = /^(0|[1-9][0-9]{0,5})(?:\.([0-9]{1,3}))?$/.exec(feeRate);
  if (!match || feeRate === '0')
    throw new TallyError('validation_failed', 'fee_rate must be a positive decimal in sat/vB such as "2".', {
      issues: [{ path: 'fee_rate', message: 'must be a positive decimal in sat/vB, at most 3 decimals' }],
    });
  // Thousandths of a sat/vB, so "1.5" stays exact.
  const milli = BigInt(`${match[1]}${(match[2] ?? '').padEnd(3, '0')}`);
  return divCeil(BigInt(vsize) * milli, 1000n);
}

/**
 * Builds the PSBT: every given output is spent; `pay` outputs first, then `remainderTo` gets what
 * is left after the fee (dropped into the fee when it would be dust). When the inputs cannot
 * cover `pay` plus the fee, `deductFeeFrom` (an index into `pay`) pays it instead — a full refund
 * leaves nothing else to pay it with.
 */
export function buildPsbt(params: {
  networkId: string;
  wallet: WalletKey;
  inputs: SpendableOutput[];
  pay: PlannedOutput[];
  remainderTo: PlannedOutput | null;
  feeRate: string;
  deductFeeFrom?: number | undefined;
}): BuiltPsbt {
  const net = network(params.networkId);
  // Nodes do not relay an output below the dust limit. A refund asked that small is refused when
  // requested (refund-dust.ts); this stops one recorded before that check from being built.
  const dust = params.pay.find((o) => o.amount < DUST_LIMIT);
  if (dust)
    throw new TallyError(
      'invalid_state',
      `The ${dust.role} would send ${formatAmount(dust.amount, 8)} BTC, below the ${DUST_LIMIT}-sat dust limit; nothing was built.`,
    );
  if (params.inputs.length === 0)
    throw new TallyError('invalid_state', 'No unspent confirmed outputs at the invoice address to spend.');
  const spends = params.inputs.map((i) => ({ input: i, ...payment(params.wallet, 0, i.index, net) }));
  const total = params.inputs.reduce((s, i) => s + i.amount, 0n);
  const scriptOf = (address: string) => btc.OutScript.encode(btc.Address(net).decode(address));
  const pay = params.pay.map((o) => ({ ...o }));
  const withChange = [...pay.map((o) => scriptOf(o.address))];
  if (params.remainderTo) withChange.push(scriptOf(params.remainderTo.address));
  const vsizeWithChange = estimateVsize(
    spends.map((s) => s.inputVbytes),
    withChange,
  );
  const payTotal = pay.reduce((s, o) => s + o.amount, 0n);
  let fee = feeFor(vsizeWithChange, params.feeRate);
  let vsize = vsizeWithChange;
  let outputs: PlannedOutput[] = [...pay];
  const remainder = total - payTotal - fee;
  if (params.remainderTo && remainder >= DUST_LIMIT) {
    outputs.push({ ...params.remainderTo, amount: remainder });
  } else {
    vsize = estimateVsize(
      spends.map((s) => s.inputVbytes),
      pay.map((o) => scriptOf(o.address)),
    );
    fee = feeFor(vsize, params.feeRate);
    const left = total - payTotal - fee;
    if (left < 0n) {
      const btc = (units: bigint) => `${formatAmount(units, 8)} BTC`;
      const target = params.deductFeeFrom === undefined ? undefined : pay[params.deductFeeFrom];
      // A partial or excess refund sends its amount whole (src/refunds/build-refund-transaction.ts).
      const hint = pay.some((o) => o.role === 'refund')
        ? ' Refund less, or in full (a full refund pays its fee out of the refund).'
        : '';
      if (!target)
        throw new TallyError(
          'invalid_state',
          `The address holds ${btc(total)}: ${btc(payTotal)} plus a network fee of ${btc(fee)} at ${params.feeRate} sat/vB do not fit; nothing was built.${hint}`,
        );
      target.amount += left;
      // Two causes, two answers: a fee above everything the address holds (a lower fee rate) or
      // an output the fee shrinks below what the network relays (dust).
      if (target.amount <= 0n)
        throw new TallyError(
          'invalid_state',
          `The network fee of ${btc(fee)} at ${params.feeRate} sat/vB exceeds the ${btc(total)} the address holds; nothing was built. Use a lower fee_rate.`,
        );
      if (target.amount < DUST_LIMIT)
        throw new TallyError(
          'invalid_state',
          `After the network fee of ${btc(fee)} at ${params.feeRate} sat/vB the ${target.role} would send ${btc(target.amount)}, below the ${DUST_LIMIT}-sat dust limit; nothing was built. Use a lower fee_rate.`,
        );
      fee = total - pay.reduce((s, o) => s + o.amount, 0n);
    } else {
      fee += left; // dust change: the miner's
    }
    outputs = pay;
  }
  const tx = new btc.Transaction({ allowUnknownOutputs: false });
  for (const s of spends) {
    tx.addInput({
      ...s.pay,
      txid: s.input.txid,
      index: s.input.vout,
      witnessUtxo: { script: s.pay.script, amount: s.input.amount },
      sequence: 0xfffffffd,
      ...(params.wallet.scriptType === 'p2tr'
        ? {
            tapBip32Derivation: [
              [s.pub.subarray(1), { hashes: [], der: { fingerprint: s.fingerprint, path: s.path } }],
            ],
          }
        : { bip32Derivation: [[s.pub, { fingerprint: s.fingerprint, path: s.path }]] }),
    } as never);
  }
  for (const o of outputs) tx.addOutputAddress(o.address, o.amount, net);
  return {
    psbt: Buffer.from(tx.toPSBT()).toString('base64'),
    txid: tx.id,
    vsize,
    fee,
    inputs: params.inputs.map((i) => ({ outpoint: `${i.txid}:${i.vout}`, amount: i.amount })),
    outputs,
  };
}
