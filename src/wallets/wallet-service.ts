import type { Selectable, Transaction } from 'kysely';
import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { findNetwork } from '../core/registry.ts';
import type { Schema, WalletsTable } from '../db/schema.ts';
import { iso, toDate } from '../db/values.ts';
import { isPublicDevKey } from '../dev/dev-wallets.ts';
import { forgetCreationContext } from '../invoices/creation-context.ts';
import { enqueueJob } from '../jobs/job-store.ts';
import { type AddressGap, gapJson, walletGapIndexes } from './address-gap.ts';
import { keyFingerprint } from './extended-key.ts';
import { checkKeyDepth, validateWalletKey } from './families.ts';
import { validateKeyOrigin } from './key-origin.ts';

export interface AddWalletInput {
  /** A Bitcoin network id (bitcoin, bitcoin-testnet, bitcoin-regtest) or "evm" for every EVM network. */
  scope: string;
  xpub: string;
  /** Bitcoin only: "p2wpkh" (BIP84, the default) or "p2tr" (BIP86 Taproot). */
  script_type?: string | undefined;
  label?: string | undefined;
  /** Bitcoin only, optional, with `account_path`: the signer's master key fingerprint (8 hex digits). */
  master_fingerprint?: string | undefined;
  /** The account key's BIP32 path from that master, e.g. `m/84'/0'/0'` (src/wallets/key-origin.ts). */
  account_path?: string | undefined;
}

/**
 * Adds a merchant's watch-only wallet. The key is validated (and refused if private, or at a
 * depth its family does not derive from: checkKeyDepth in families.ts) before anything is
 * written; the address pool is then filled by a job, off the request path. A key already serving
 * the same scope (for any merchant) is refused: both wallets would derive the same addresses and
 * each would be credited with the other's payments.
 */
export async function addWallet(
  tally: Tally,
  merchantId: string,
  input: AddWalletInput,
  inTransaction?: (trx: Transaction<Schema>, wallet: WalletJson) => Promise<void>,
): Promise<WalletJson> {
  if (input.scope !== 'evm' && findNetwork(input.scope)?.family !== 'bitcoin') {
    throw new TallyError('validation_failed', `Unknown wallet scope "${input.scope}".`, {
      issues: [{ path: 'scope', message: 'must be a Bitcoin network id or "evm"' }],
    });
  }
  const { family, scriptType } = validateWalletKey(input.scope, input.xpub, input.script_type);
  if (tally.config.mode === 'production' && isPublicDevKey(input.xpub)) {
    // The dev keys come from a public mnemonic: whatever is paid to their addresses anyone can take.
    throw new TallyError(
      'invalid_xpub',
      'This is a public demo key (anyone can spend from it); use your own key.',
      {
        issues: [{ path: 'xpub', message: 'is a public demo key, refused in production mode' }],
      },
    );
  }
  const fingerprint = keyFingerprint(input.xpub);
  const origin = validateKeyOrigin(input.xpub, input, family);
  checkKeyDepth(input.xpub, family, origin !== null);
  const now = tally.clock.now();
  const id = newId('wal');
  const added = await tally.database.write(async (trx) => {
    // The API's merchant always exists; the CLI's --merchant may be a typo, which the foreign key
    // would report as "FOREIGN KEY constraint failed".
    const merchant = await trx
      .selectFrom('merchants')
      .select('id')
      .where('id', '=', merchantId)
      .executeTakeFirst();
    if (!merchant) throw new TallyError('not_found', `No merchant ${merchantId}.`);
    const existing = await trx
      .selectFrom('wallets')
      .select(['id', 'merchant_id'])
      .where('scope', '=', input.scope)
      .where((eb) => eb.or([eb('merchant_id', '=', merchantId), eb('key_fingerprint', '=', fingerprint)]))
      .executeTakeFirst();
    if (existing?.merchant_id === merchantId) {
      throw new TallyError(
        'duplicate',
        `The merchant already has a wallet for ${input.scope} (${existing.id}).`,
        {
          issues: [{ path: 'scope', message: 'already has a wallet' }],
        },
      );
    }
    if (existing) {
      throw new TallyError(
        'duplicate',
        'This key already serves another wallet for this scope; its addresses would be shared.',
        {
          issues: [{ path: 'xpub', message: 'is already in use' }],
        },
      );
    }
    const row = {
      id,
      merchant_id: merchantId,
      family,
      scope: input.scope,
      xpub: input.xpub.trim(),
      key_fingerprint: fingerprint,
      script_type: scriptType,
      label: input.label ?? null,
      next_index: 0,
      pool_target: tally.config.addressPoolTarget,
      created_at: iso(now),
      gap_warned_at: null,
      master_fingerprint: origin?.master_fingerprint ?? null,
      account_path: origin?.account_path ?? null,
    };
    await trx.insertInto('wallets').values(row).execute();
    await enqueueJob(trx, {
      kind: 'wallet.top_up',
      dedupeKey: `top_up:${id}`,
      payload: { walletId: id },
      runAt: now,
      now,
    });
    const json = walletJson(row, { derived: 0, allocated: 0 }, gapOf(row, undefined), true);
    if (inTransaction) await inTransaction(trx, json);
    return json;
  });
  forgetCreationContext(tally, merchantId);
  return added;
}

/** `showKey`: the xpub reveals every past and future address, so only admin keys see it. */
export async function getWallet(
  tally: Tally,
  merchantId: string,
  id: string,
  showKey: boolean,
): Promise<WalletJson> {
  const row = await tally.database.read
    .selectFrom('wallets')
    .selectAll()
    .where('id', '=', id)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!row) throw new TallyError('not_found', `No wallet ${id}.`);
  const gaps = await walletGapIndexes(tally.database.read, [row.id]);
  return walletJson(row, await addressCounts(tally, row.id), gapOf(row, gaps.get(row.id)), showKey);
}

export async function listWallets(tally: Tally, merchantId: string, showKey: boolean): Promise<WalletJson[]> {
  const rows = await tally.database.read
    .selectFrom('wallets')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('id')
    .execute();
  const gaps = await walletGapIndexes(
    tally.database.read,
    rows.filter((r) => r.family === 'bitcoin').map((r) => r.id),
  );
  return Promise.all(
    rows.map(async (r) => walletJson(r, await addressCounts(tally, r.id), gapOf(r, gaps.get(r.id)), showKey)),
  );
}

/** Bitcoin wallets only: EVM wallets are one account per address, with no gap-limit scanning. */
function gapOf(
  row: Selectable<WalletsTable>,
  indexes: { highestAllocated: number | null; lastPaid: number | null } | undefined,
): AddressGap | null {
  if (row.family !== 'bitcoin') return null;
  return gapJson(indexes?.highestAllocated ?? null, indexes?.lastPaid ?? null, row.gap_warned_at);
}

async function addressCounts(
  tally: Tally,
  walletId: string,
): Promise<{ derived: number; allocated: number }> {
  const counts = await tally.database.read
    .selectFrom('wallet_addresses')
    .select((eb) => [
      eb.fn.countAll<string | number>().as('derived'),
      eb.fn.count<string | number>('option_id').as('allocated'),
    ])
    .where('wallet_id', '=', walletId)
    .executeTakeFirstOrThrow();
  return { derived: Number(counts.derived), allocated: Number(counts.allocated) };
}

function walletJson(
  row: Selectable<WalletsTable>,
  counts: { derived: number; allocated: number },
  gap: AddressGap | null,
  showKey: boolean,
) {
  return {
    id: row.id,
    object: 'wallet' as const,
    scope: row.scope,
    family: row.family,
    script_type: row.script_type,
    xpub: showKey ? row.xpub : null,
    key_fingerprint: row.key_fingerprint,
    /** Bitcoin key origin written into PSBT derivations; null without one (paths then start at the xpub). */
    master_fingerprint: row.master_fingerprint,
    account_path: row.account_path,
    label: row.label,
    next_index: row.next_index,
    addresses_derived: counts.derived,
    addresses_allocated: counts.allocated,
    pool_free: counts.derived - counts.allocated,
    pool_target: row.pool_target,
    /** Bitcoin: unpaid addresses after the last paid one, against the BIP44 gap limit of 20. */
    gap,
    created_at: toDate(row.created_at).toISOString(),
  };
}

export type WalletJson = ReturnType<typeof walletJson>;
