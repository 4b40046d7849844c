import { createHash } from 'node:crypto';
import type { CompiledQuery } from 'kysely';
import type pg from 'pg';

/**
 * Runs PostgreSQL's hottest statement, the invoice batch, as a named prepared statement: each
 * connection parses and analyses it once, and after five executions PostgreSQL's plan cache
 * settles on a generic plan when that costs no more than the custom ones, so planning stops too.
 * Unnamed, that work was redone for every batch: the backends took 22% less CPU per invoice named
 * (decision 0020).
 *
 * A name is derived from the statement's text, so the same text always has the same name and a
 * name never stands for two texts. A batch's text varies a little (with the number of wallets in
 * it, and which kinds of rows it has), so a text is named only once it has recurred
 * (NAME_AFTER sightings), and at most MAX_NAMES texts are named: the shapes a gateway sends all the
 * time take the names, not the first rare ones, and ever-new texts cannot fill every connection
 * with plans.
 *
 * Named statements live in the server session. A pooler between the gateway and PostgreSQL that
 * does not keep them (PgBouncer before 1.21 in transaction mode) hands the next transaction
 * another session, where the name is unknown (or already taken); a schema change can also
 * invalidate a cached plan. Each such error comes before anything executes, so the statement is
 * run again unnamed and named statements are switched off for the rest of the process, with a
 * warning: slower, never wrong.
 */
export class PgPreparedRunner {
  private enabled: boolean;
  private readonly names = new Map<string, string>();
  /** Sightings of texts not named yet; cleared when it holds SEEN_LIMIT texts. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    enabled: boolean,
    private readonly warn: (message: string) => void = (message) => process.emitWarning(message),
  ) {
    this.enabled = enabled;
  }

  /** Whether statements still go out named (false once switched off, or if never on). */
  get named(): boolean {
    return this.enabled;
  }

  async execute(query: CompiledQuery): Promise<void> {
    const values = [...query.parameters];
    const name = this.enabled ? this.nameFor(query.sql) : undefined;
    // A client of its own, released without the error, as Kysely's driver does: `pool.query`
    // would close the connection on any failed statement (a lost address claim, a deadlock),
    // and with it the session's prepared statements.
    const client = await this.pool.connect();
    try {
      if (name === undefined) {
        await client.query(query.sql, values);
        return;
      }
      try {
        await client.query({ name, text: query.sql, values });
      } catch (error) {
        if (!notKept(error)) throw error;
        this.enabled = false;
        this.warn(
          `PostgreSQL lost a prepared statement (${(error as { code?: string }).code}: ${(error as Error).message}); ` +
            'running statements unnamed from now on. Set TALLY_PG_PREPARED_STATEMENTS=off to skip this.',
        );
        await client.query(query.sql, values);
      }
    } finally {
      client.release();
    }
  }

  private nameFor(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= MAX_NAMES) return known;
    const sightings = (this.seen.get(text) ?? 0) + 1;
    if (sightings < NAME_AFTER) {
      if (this.seen.size >= SEEN_LIMIT) this.seen.clear();
      this.seen.set(text, sightings);
      return undefined;
    }
    this.seen.delete(text);
    const name = `tally_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    this.names.set(text, name);
    return name;
  }
}

/** Sightings of a text before it is named. */
export const NAME_AFTER = 3;
const SEEN_LIMIT = 1024;

/** Distinct statement texts given a name; a batch's text varies only with its wallets and parts. */
export const MAX_NAMES = 64;

/**
 * Whether an error means the session does not hold the statement as named: it is unknown there
 * (26000, another session behind a pooler), already there under that name (42P05, the same), or
 * its cached plan no longer fits the schema (0A000, but only that one of the class's errors).
 */
function notKept(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (code === '26000' || code === '42P05') return true;
  return code === '0A000' && /cached plan must not change result type/.test(String((error as Error).message));
}
