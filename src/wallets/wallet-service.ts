import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { findNetwork } from '../core/registry.ts';
import { iso, toDate } from '../db/values.ts';
import { enqueueJob } from '../jobs/job-store.ts';
import { validateWalletKey } from './families.ts';

export interface AddWalletInput {
  /** A Bitcoin network id (bitcoin, bitcoin-testnet, bitcoin-regtest) or "evm" for every EVM network. */
  scope: string;
  xpub: string;
  label?: string | undefined;
}

/**
 * Adds a merchant's watch-only wallet. The key is validated (and refused if private) before
 * anything is written; the address pool is then filled by a job, off the request path.
 */
export async function addWallet(tally: Tally, merchantId: string, input: AddWalletInput) {
  if (input.scope !== 'evm' && findNetwork(input.scope)?.family !== 'bitcoin') {
    throw new TallyError('validation_failed', `Unknown wallet scope "${input.scope}".`, {
      issues: [{ path: 'scope', message: 'must be a Bitcoin network id or "evm"' }],
    });
  }
  const { family, scriptType } = validateWalletKey(input.scope, input.xpub);
  const now = tally.clock.now();
  const id = newId('wal');
  const existing = await tally.database.db
    .selectFrom('wallets')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .where('scope', '=', input.scope)
    .executeTakeFirst();
  if (existing) {
    throw new TallyError('duplicate', `The merchant already has a ${input.scope} wallet (${existing.id}).`, {
      issues: [{ path: 'scope', message: 'already has a wallet' }],
    });
  }
  await tally.database.write(async (trx) => {
    await trx
      .insertInto('wallets')
      .values({
        id,
        merchant_id: merchantId,
        family,
        scope: input.scope,
        xpub: input.xpub.trim(),
        script_type: scriptType,
        label: input.label ?? null,
        next_index: 0,
        pool_target: tally.config.addressPoolTarget,
        created_at: iso(now),
      })
      .execute();
    await enqueueJob(trx, {
      kind: 'wallet.top_up',
      dedupeKey: `top_up:${id}:${now.getTime()}`,
      payload: { walletId: id },
      runAt: now,
      now,
    });
  });
  return getWallet(tally, merchantId, id);
}

export async function getWallet(tally: Tally, merchantId: string, id: string) {
  const row = await tally.database.read
    .selectFrom('wallets')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!row) throw new TallyError('not_found', `No wallet ${id}.`);
  return serializeWallet(tally, row);
}

export async function listWallets(tally: Tally, merchantId: string) {
  const rows = await tally.database.read
    .selectFrom('wallets')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .execute();
  return Promise.all(rows.map((r) => serializeWallet(tally, r)));
}

async function serializeWallet(
  tally: Tally,
  row: {
    id: string;
    scope: string;
    family: string;
    xpub: string;
    script_type: string;
    label: string | null;
    next_index: number;
    pool_target: number;
    created_at: string | Date;
  },
) {
  const counts = await tally.database.read
    .selectFrom('wallet_addresses')
    .select((eb) => [
      eb.fn.countAll<string | number>().as('derived'),
      eb.fn.count<string | number>('option_id').as('allocated'),
      eb.fn.max('derivation_index').as('highest'),
    ])
    .where('wallet_id', '=', row.id)
    .executeTakeFirstOrThrow();
  return {
    id: row.id,
    object: 'wallet' as const,
    scope: row.scope,
    family: row.family,
    script_type: row.script_type,
    xpub: row.xpub,
    label: row.label,
    next_index: row.next_index,
    addresses_derived: Number(counts.derived),
    addresses_allocated: Number(counts.allocated),
    pool_free: Number(counts.derived) - Number(counts.allocated),
    pool_target: row.pool_target,
    created_at: toDate(row.created_at).toISOString(),
  };
}
