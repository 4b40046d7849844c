import { type Expression, sql } from 'kysely';

type DataType = 'text' | Expression<unknown>;

/** Column types that differ by dialect; migrations use these so one set of files serves both. */
export interface ColumnTypes {
  amount: DataType;
  time: DataType;
}

export const SQLITE_TYPES: ColumnTypes = { amount: 'text', time: 'text' };
export const POSTGRES_TYPES: ColumnTypes = { amount: sql`numeric(78,0)`, time: sql`timestamptz` };
