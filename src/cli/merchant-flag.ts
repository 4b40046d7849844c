import type { Tally } from '../context.ts';
import { TallyError } from '../core/errors.ts';

/**
 * The merchant named by --merchant, which must exist. Writes for an unknown merchant used to reach
 * the database and fail on its foreign key ("FOREIGN KEY constraint failed"), which told the
 * operator nothing about the typo.
 */
export async function existingMerchant(
  tally: Tally,
  id: string | boolean | string[] | undefined,
): Promise<string> {
  if (typeof id !== 'string' || id === '')
    throw new TallyError('validation_failed', '--merchant is required.');
  const found = await tally.database.db
    .selectFrom('merchants')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst();
  if (!found) throw new TallyError('not_found', `No merchant ${id}; "tally merchant list" shows them.`);
  return id;
}
