import type { Kysely } from 'kysely';
import { keyFingerprint } from '../../wallets/extended-key.ts';
import type { ColumnTypes } from './column-types.ts';

interface WalletKeys {
  wallets: { id: string; merchant_id: string; scope: string; xpub: string; key_fingerprint: string | null };
}

/**
 * Recomputes every wallet's key fingerprint over the key material alone (chain code and public
 * key; keyFingerprint in src/wallets/extended-key.ts). The fingerprint 0003 stored hashed the whole
 * key, so a copy with a changed parent fingerprint or child number passed as a new key, and a
 * second merchant could register it and be handed the first one's addresses.
 *
 * Two wallets of one scope that turn out to hold the same key share their addresses: payments to
 * one are credited to both. That needs a person, not a guess, so the migration then stops, writing
 * nothing, and names them; an operator removes or replaces one of the keys and runs it again.
 */
export async function up(db: Kysely<unknown>, _types: ColumnTypes): Promise<void> {
  const wallets = db as unknown as Kysely<WalletKeys>;
  const rows = await wallets
    .selectFrom('wallets')
    .select(['id', 'merchant_id', 'scope', 'xpub', 'key_fingerprint'])
    .orderBy('id')
    .execute();
  const owner = new Map<string, (typeof rows)[number]>();
  const updates: Array<{ id: string; fingerprint: string }> = [];
  for (const row of rows) {
    const fingerprint = keyFingerprint(row.xpub);
    const key = `${row.scope}/${fingerprint}`;
    const first = owner.get(key);
    if (first) {
      throw new Error(
        `Wallets ${first.id} (merchant ${first.merchant_id}) and ${row.id} (merchant ${row.merchant_id}) ` +
          `hold the same ${row.scope} key and derive the same addresses. Replace one of the keys, then migrate again.`,
      );
    }
    owner.set(key, row);
    if (fingerprint !== row.key_fingerprint) updates.push({ id: row.id, fingerprint });
  }
  for (const { id, fingerprint } of updates) {
    await wallets.updateTable('wallets').set({ key_fingerprint: fingerprint }).where('id', '=', id).execute();
  }
}
