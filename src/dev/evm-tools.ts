import { encodeDeployData, encodeFunctionData, type Hex } from 'viem';
import type { EvmRpc } from '../chains/evm/rpc-client.ts';
import { ARTIFACTS } from './contracts/artifacts.ts';

/**
 * DEV AND TEST ONLY: moving test money on an anvil node. anvil's default accounts (from the public
 * "test … junk" mnemonic) are unlocked in the node, so transactions are sent with
 * eth_sendTransaction and no key ever exists here. Nothing in this file runs in production mode.
 */
export const DEV_ACCOUNTS = {
  /** anvil's first default account; deploys the devnet tokens (its nonces 0 and 1 fix their addresses). */
  deployer: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  /**
   * The "customer" that pays invoices in dev mode and tests, and a second sender. Not anvil's
   * default accounts: those are children of the dev EVM xpub (m/44'/60'/0'/0/i), i.e. the
   * addresses invoices are given, and a customer paying from an invoice's own address (or
   * receiving test tokens there) would look like a payment. Impersonated and funded by
   * `prepareActors`.
   */
  customer: '0x000000000000000000000000000000000000cafe',
  other: '0x000000000000000000000000000000000000beef',
} as const;

/** Lets the non-default actors send transactions on anvil (no key needed) and gives them ether. */
export async function prepareActors(rpc: EvmRpc): Promise<void> {
  for (const actor of [DEV_ACCOUNTS.customer, DEV_ACCOUNTS.other]) {
    await rpc.call('anvil_impersonateAccount', [actor]);
    await rpc.call('anvil_setBalance', [actor, `0x${(10n ** 24n).toString(16)}`]);
  }
}

export interface SentTx {
  hash: Hex;
  blockNumber: number;
  contractAddress: string | null;
}

/** Sends a transaction from an unlocked account and waits for its receipt; a revert throws. */
export async function sendTx(
  rpc: EvmRpc,
  tx: { from: string; to?: string; data?: Hex; value?: bigint },
): Promise<SentTx> {
  const hash = await rpc.call<Hex>('eth_sendTransaction', [
    {
      from: tx.from,
      ...(tx.to ? { to: tx.to } : {}),
      ...(tx.data ? { data: tx.data } : {}),
      ...(tx.value !== undefined ? { value: `0x${tx.value.toString(16)}` } : {}),
    },
  ]);
  for (let i = 0; i < 200; i++) {
    const receipt = await rpc.call<{
      status: string;
      blockNumber: string;
      contractAddress: string | null;
    } | null>('eth_getTransactionReceipt', [hash]);
    if (receipt) {
      if (receipt.status !== '0x1') throw new Error(`transaction ${hash} reverted`);
      return {
        hash,
        blockNumber: Number(BigInt(receipt.blockNumber)),
        contractAddress: receipt.contractAddress,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`transaction ${hash} was not mined`);
}

/**
 * Deploys the test ERC-20. With `at`, its runtime code is then copied to that address
 * (anvil_setCode): how a test node with chain id 137 gets a USDC at Polygon's real USDC address,
 * so the registry's allow-list is used unchanged. `decimals` is immutable (part of the code), so it
 * survives the copy.
 */
export async function deployToken(
  rpc: EvmRpc,
  token: { symbol: string; name: string; decimals: number; at?: string },
): Promise<string> {
  const { abi, bytecode } = ARTIFACTS.contracts.TestToken;
  const sent = await sendTx(rpc, {
    from: DEV_ACCOUNTS.deployer,
    data: encodeDeployData({ abi, bytecode, args: [token.name, token.symbol, token.decimals] }),
  });
  if (!sent.contractAddress) throw new Error('deployment produced no contract');
  if (!token.at) return sent.contractAddress;
  const code = await rpc.call<Hex>('eth_getCode', [sent.contractAddress, 'latest']);
  await rpc.call('anvil_setCode', [token.at, code]);
  return token.at;
}

export async function deployForwarder(rpc: EvmRpc): Promise<string> {
  const { abi, bytecode } = ARTIFACTS.contracts.Forwarder;
  const sent = await sendTx(rpc, { from: DEV_ACCOUNTS.deployer, data: encodeDeployData({ abi, bytecode }) });
  if (!sent.contractAddress) throw new Error('deployment produced no contract');
  return sent.contractAddress;
}

const tokenCall = (functionName: 'mint' | 'transfer', args: readonly [string, bigint]) =>
  encodeFunctionData({ abi: ARTIFACTS.contracts.TestToken.abi, functionName, args: [...args] });

export async function mint(rpc: EvmRpc, token: string, to: string, amount: bigint): Promise<SentTx> {
  return sendTx(rpc, { from: DEV_ACCOUNTS.deployer, to: token, data: tokenCall('mint', [to, amount]) });
}

/** An ERC-20 transfer made by an account (the customer paying with its wallet). */
export async function transferToken(
  rpc: EvmRpc,
  token: string,
  from: string,
  to: string,
  amount: bigint,
): Promise<SentTx> {
  return sendTx(rpc, { from, to: token, data: tokenCall('transfer', [to, amount]) });
}

/** Native coin from an account. */
export async function sendNative(rpc: EvmRpc, from: string, to: string, value: bigint): Promise<SentTx> {
  return sendTx(rpc, { from, to, value });
}

/** Token payments made by the forwarder contract: the Transfer's sender is a contract. */
export async function forwardTokens(
  rpc: EvmRpc,
  forwarder: string,
  token: string,
  payments: ReadonlyArray<{ to: string; amount: bigint }>,
): Promise<SentTx> {
  const data = encodeFunctionData({
    abi: ARTIFACTS.contracts.Forwarder.abi,
    functionName: 'forwardMany',
    args: [token, payments.map((p) => p.to), payments.map((p) => p.amount)],
  });
  return sendTx(rpc, { from: DEV_ACCOUNTS.other, to: forwarder, data });
}
