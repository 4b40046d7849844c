import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { Database } from './connect.ts';
import { POSTGRES_TYPES, SQLITE_TYPES } from './migrations/column-types.ts';
import { MIGRATIONS } from './migrations/index.ts';

/** Applies pending forward-only migrations; returns the names applied now. */
export async function migrate(database: Database): Promise<string[]> {
  const types = database.dialect === 'postgres' ? POSTGRES_TYPES : SQLITE_TYPES;
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, migration] of Object.entries(MIGRATIONS)) {
        out[name] = { up: (db: Kysely<unknown>) => migration.up(db, types) };
      }
      return out;
    },
  };
  const migrator = new Migrator({ db: database.db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
