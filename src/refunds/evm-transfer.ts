import { encodeFunctionData, erc20Abi, serializeTransaction } from 'viem';
import { EvmRpc } from '../chains/evm/rpc-client.ts';
import { parseEvmRpc } from '../chains/evm/rpc-config.ts';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { findAsset, getNetwork } from '../core/registry.ts';

/**
 * An unsigned EIP-1559 transaction moving an asset out of one invoice address, for the merchant's
 * signer (the key is m/44'/60'/0'/0/<index>). Native coin: `value`; a token: `transfer(to, amount)`
 * on its contract. The node supplies the nonce, the gas estimate and the fee caps (max fee = 2 ×
 * base fee + tip, the usual headroom for six full blocks). A token transfer needs native coin for
 * gas at that address: `gas_needed` says how much, `native_balance` what is there.
 */
export interface EvmTransfer {
  format: 'eip1559';
  chain_id: number;
  from: string;
  to: string;
  nonce: number;
  gas: string;
  max_fee_per_gas: string;
  max_priority_fee_per_gas: string;
  value: string;
  data: string | null;
  /** The serialized unsigned transaction (0x02…): sign it, then broadcast it. */
  unsigned: string;
  /** gas × max fee: the most the transaction can cost in the native coin's base units. */
  gas_needed: string;
  native_balance: string;
  /** What must be sent to `from` before it can pay its gas (0 when funded). */
  gas_shortfall: string;
  /** Base units of the asset that will arrive. */
  amount: string;
  /** The tip when this was built: the refund's transfer is looked for from here on. */
  from_block: string;
}

export function evmRpcFor(tally: Tally, network: string): EvmRpc {
  const urls =
    parseEvmRpc(tally.config.evmRpc).networks.get(network) ??
    (tally.devnet && network === 'evm-devnet' ? [tally.devnet.rpcUrl] : []);
  if (urls.length === 0)
    throw new TallyError('service_unavailable', `No RPC node is configured for ${network} (TALLY_EVM_RPC).`);
  return new EvmRpc({ urls });
}

const hexToBig = (v: string) => BigInt(v);
const toHex = (v: bigint) => `0x${v.toString(16)}`;

export async function buildEvmTransfer(
  rpc: EvmRpc,
  params: {
    network: string;
    asset: string;
    from: string;
    to: string;
    amount: bigint;
    /** Native coin only: take the gas out of the amount (a full refund of an address's coins). */
    gasFromAmount?: boolean;
  },
): Promise<EvmTransfer> {
  const net = getNetwork(params.network);
  const asset = findAsset(params.asset, params.network);
  if (!asset || net.chainId === undefined)
    throw new TallyError('unsupported_asset', `No ${params.asset} on ${params.network}.`);
  const token = asset.contract;
  const data = token
    ? encodeFunctionData({
        abi: erc20Abi,
        functionName: 'transfer',
        args: [params.to as `0x${string}`, params.amount],
      })
    : null;
  const call = {
    from: params.from,
    to: token ?? params.to,
    value: toHex(token ? 0n : params.amount),
    ...(data ? { data } : {}),
  };
  const [nonceHex, block, tipHex, gasHex, balanceHex] = await rpc.batch<string & { baseFeePerGas?: string }>([
    { method: 'eth_getTransactionCount', params: [params.from, 'pending'] },
    { method: 'eth_getBlockByNumber', params: ['latest', false] },
    { method: 'eth_maxPriorityFeePerGas', params: [] },
    { method: 'eth_estimateGas', params: [call] },
    { method: 'eth_getBalance', params: [params.from, 'latest'] },
  ]);
  const baseFee = hexToBig((block as unknown as { baseFeePerGas?: string }).baseFeePerGas ?? '0x0');
  const tip = hexToBig(tipHex as string);
  const maxFee = baseFee * 2n + tip;
  const gas = hexToBig(gasHex as string);
  const gasNeeded = gas * maxFee;
  const balance = hexToBig(balanceHex as string);
  let value = token ? 0n : params.amount;
  if (!token && params.gasFromAmount) value -= gasNeeded;
  if (value < 0n || (!token && value === 0n))
    throw new TallyError('invalid_state', 'After gas nothing would be sent; nothing was built.');
  const spendNative = value + gasNeeded;
  const shortfall = balance >= spendNative ? 0n : spendNative - balance;
  const unsigned = serializeTransaction({
    type: 'eip1559',
    chainId: net.chainId,
    nonce: Number(hexToBig(nonceHex as string)),
    to: (token ?? params.to) as `0x${string}`,
    value,
    ...(data ? { data } : {}),
    gas,
    maxFeePerGas: maxFee,
    maxPriorityFeePerGas: tip,
  });
  return {
    format: 'eip1559',
    chain_id: net.chainId,
    from: params.from,
    to: token ?? params.to,
    nonce: Number(hexToBig(nonceHex as string)),
    gas: gas.toString(),
    max_fee_per_gas: maxFee.toString(),
    max_priority_fee_per_gas: tip.toString(),
    value: value.toString(),
    data,
    unsigned,
    gas_needed: gasNeeded.toString(),
    native_balance: balance.toString(),
    gas_shortfall: shortfall.toString(),
    amount: (token ? params.amount : value).toString(),
    from_block: BigInt((block as unknown as { number: string }).number).toString(),
  };
}
