import { BitcoinRpc } from '../chains/bitcoin/rpc-client.ts';
import { BTC_DEVNET_PASSWORD, BTC_DEVNET_USER, DEV_BTC_CUSTOMER_KEY } from './bitcoin-devnet.ts';

/** Regtest address parameters for @scure/btc-signer. */
const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };

/** The dev customer's regtest P2PKH address (coinbases mature without SegWit activation). */
export async function devCustomerBtcAddress(): Promise<string> {
  const btc = await import('@scure/btc-signer');
  const { secp256k1 } = await import('@noble/curves/secp256k1.js');
  return btc.p2pkh(secp256k1.getPublicKey(DEV_BTC_CUSTOMER_KEY, true), REGTEST).address as string;
}

/**
 * DEV MODE ONLY: pays `amount` satoshis to `address` from a mature coinbase of the dev customer
 * (signed with @scure/btc-signer, a dev dependency, loaded only here), then mines one block so the
 * invoice reaches its (regtest: one) confirmation. Each payment mines a block, which matures the
 * next coinbase, so coinbases are used one after another, newest first; spent ones are skipped, and
 * so are ones too small for the amount (regtest halves the subsidy every 150 blocks: the devnet
 * starts at height 431, so its newest mature coinbases hold 12.5 BTC and its oldest 50 BTC).
 */
export async function payBitcoinOnDevnet(rpcUrl: string, address: string, amount: bigint): Promise<string> {
  const btc = await import('@scure/btc-signer');
  const rpc = new BitcoinRpc({ url: rpcUrl, user: BTC_DEVNET_USER, password: BTC_DEVNET_PASSWORD });
  const change = await devCustomerBtcAddress();
  const tip = await rpc.call<number>('getblockcount');
  for (let height = tip - 100; height >= 1; height--) {
    const hash = await rpc.call<string>('getblockhash', [height]);
    const block = await rpc.call<{ tx: string[] }>('getblock', [hash, 1]);
    const txid = block.tx[0] as string;
    if ((await rpc.call<unknown>('gettxout', [txid, 0, true])) === null) continue; // spent
    const prevHex = await rpc.call<string>('getrawtransaction', [txid, 0]);
    const value = btc.Transaction.fromRaw(Buffer.from(prevHex, 'hex')).getOutput(0).amount as bigint;
    const fee = 10_000n;
    if (value < amount + fee) continue; // an older, larger coinbase may cover it
    const tx = new btc.Transaction();
    tx.addInput({ txid, index: 0, nonWitnessUtxo: Buffer.from(prevHex, 'hex') });
    tx.addOutputAddress(address, amount, REGTEST);
    if (value - amount - fee > 1_000n) tx.addOutputAddress(change, value - amount - fee, REGTEST);
    tx.sign(DEV_BTC_CUSTOMER_KEY);
    tx.finalize();
    const sent = await rpc.call<string>('sendrawtransaction', [tx.hex]);
    await rpc.call('generate', [1]);
    return sent;
  }
  throw new Error(`the dev customer has no spendable coinbase of ${amount} sat plus the fee`);
}
