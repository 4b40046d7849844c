import { type Kysely, type Migration, Migrator } from 'kysely';
import type { Database } from '../../src/db/connect.ts';
import { POSTGRES_TYPES, SQLITE_TYPES } from '../../src/db/migrations/column-types.ts';
import { MIGRATIONS } from '../../src/db/migrations/index.ts';

/**
 * Applies the migrations up to and including `last`, as a gateway of that time would have: a
 * migration test writes rows in the shape they had then and runs the next migration over them.
 */
export async function migrateThrough(database: Database, last: string): Promise<void> {
  const names = Object.keys(MIGRATIONS);
  if (!names.includes(last)) throw new Error(`no migration ${last}`);
  const types = database.dialect === 'postgres' ? POSTGRES_TYPES : SQLITE_TYPES;
  const migrations: Record<string, Migration> = {};
  for (const name of names.slice(0, names.indexOf(last) + 1)) {
    const m = MIGRATIONS[name];
    if (m) migrations[name] = { up: (db: Kysely<unknown>) => m.up(db, types) };
  }
  const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
