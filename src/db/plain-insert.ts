import { CompiledQuery } from 'kysely';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * A multi-row INSERT written out directly, for SQLite's hot write path. Kysely's builder parses
 * every value of every row into an operation tree and compiles it back: ~8% of the main thread
 * under invoice-creation load, for a statement whose shape never changes.
 *
 * Only for rows that all define the same columns with plain values (text, number, bigint, null,
 * bytes); anything else returns null and the caller lets Kysely build the statement. Column and
 * table names come from the schema, never from input, and are checked all the same.
 */
export function plainInsert(table: string, rows: readonly object[]): CompiledQuery | null {
  const first = rows[0];
  if (!first || !IDENTIFIER.test(table)) return null;
  const columns = Object.keys(first).filter((c) => (first as Record<string, unknown>)[c] !== undefined);
  if (!columns.every((c) => IDENTIFIER.test(c))) return null;
  const parameters: unknown[] = [];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    let defined = 0;
    for (const key in record) if (record[key] !== undefined) defined += 1;
    if (defined !== columns.length) return null;
    for (const column of columns) {
      const value = record[column];
      if (!isPlain(value)) return null;
      parameters.push(value);
    }
  }
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const sql = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${Array(rows.length).fill(tuple).join(', ')}`;
  return CompiledQuery.raw(sql, parameters);
}

function isPlain(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    value instanceof Uint8Array
  );
}
