import type { Kysely } from 'kysely';
import { GENESIS_HASH } from '../db/migrations/0008_dashboard.ts';
import type { Schema } from '../db/schema.ts';
import { auditHash, fromRow } from './audit-log.ts';

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The last entry's hash: record it elsewhere (a ticket, a printout) to detect a rewritten tail. */
  headSeq: number;
  headHash: string;
  /** The first entry that fails, and why. */
  problem: { seq: number; reason: string } | null;
}

/**
 * Walks the whole chain in order and recomputes every hash: an edited, inserted or removed entry
 * breaks the link at that point. The head row must name the last entry, so a truncated tail shows
 * too (unless the head row was rewritten with it, which is why the head hash is printed for
 * keeping outside the database).
 */
export async function verifyAudit(db: Kysely<Schema>, pageSize = 1000): Promise<AuditVerification> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let entries = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of rows) {
      const e = fromRow(row);
      const fail = (reason: string): AuditVerification => ({
        ok: false,
        entries,
        headSeq: expectedSeq - 1,
        headHash: prevHash,
        problem: { seq: e.seq, reason },
      });
      if (e.seq !== expectedSeq) return fail(`entry ${expectedSeq} is missing (next is ${e.seq})`);
      if (e.prevHash !== prevHash) return fail('its previous-hash does not match the entry before it');
      const { hash, ...content } = e;
      if (auditHash(content) !== hash) return fail('its content does not match its hash (edited)');
      prevHash = hash;
      expectedSeq++;
      entries++;
    }
    if (rows.length < pageSize) break;
  }
  const head = await db
    .selectFrom('audit_chain_head')
    .select(['seq', 'hash'])
    .where('name', '=', 'audit')
    .executeTakeFirst();
  const headSeq = Number(head?.seq ?? -1);
  if (!head || headSeq !== entries || head.hash !== prevHash) {
    return {
      ok: false,
      entries,
      headSeq: entries,
      headHash: prevHash,
      problem: {
        seq: entries + 1,
        reason: `the chain head says entry ${headSeq} but the log ends at ${entries} (entries removed from the end?)`,
      },
    };
  }
  return { ok: true, entries, headSeq, headHash: prevHash, problem: null };
}
