import { forgetCreationContext } from '../../src/invoices/creation-context.ts';
import type { ConfirmationTier } from '../../src/invoices/policy.ts';
import type { Harness } from './harness.ts';

/**
 * Writes confirmation tiers into a merchant's stored policy behind the API's back, as a database
 * from before a tier check was added may hold them, and drops the cached creation context so the
 * next invoice reads them.
 */
export async function storeTiersDirectly(
  h: Harness,
  merchantId: string,
  tiers: Record<string, ConfirmationTier[]>,
): Promise<void> {
  const db = h.tally.database.db;
  const current = await db
    .selectFrom('merchants')
    .select('policy')
    .where('id', '=', merchantId)
    .executeTakeFirstOrThrow();
  const stored = JSON.parse(current.policy);
  stored.confirmation_tiers = tiers;
  await db
    .updateTable('merchants')
    .set({ policy: JSON.stringify(stored) })
    .where('id', '=', merchantId)
    .execute();
  forgetCreationContext(h.tally, merchantId);
}
