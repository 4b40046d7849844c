import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DialectName } from '../db/connect.ts';
import type { AuditLogTable, Schema } from '../db/schema.ts';

/**
 * The append-only, hash-chained audit log (docs/decisions/0009). Every dashboard action and every
 * login writes one entry, in the same transaction as the change it records, so an action without
 * its entry (or an entry without its action) cannot commit.
 */
export interface AuditEntry {
  merchantId: string | null;
  actor: { kind: 'user' | 'api_key' | 'system' | 'anonymous'; id: string; label: string };
  /** Dotted verb: "login.succeeded", "invoice.mark_paid", "webhook.redeliver", … */
  action: string;
  target: { kind: string; id: string } | null;
  reason: string | null;
  details: Record<string, unknown>;
}

export interface StoredAuditEntry {
  seq: number;
  merchantId: string | null;
  actorKind: string;
  actorId: string;
  actorLabel: string;
  action: string;
  targetKind: string | null;
  targetId: string | null;
  reason: string | null;
  details: string;
  createdAt: string;
  prevHash: string;
  hash: string;
}

/**
 * The bytes an entry's hash covers: every column but the hash itself, in a fixed order, as a JSON
 * array (no key-order ambiguity). `details` is stored as the exact JSON text that was hashed.
 */
export function auditHash(e: Omit<StoredAuditEntry, 'hash'>): string {
  const canonical = JSON.stringify([
    e.seq,
    e.merchantId,
    e.actorKind,
    e.actorId,
    e.actorLabel,
    e.action,
    e.targetKind,
    e.targetId,
    e.reason,
    e.details,
    e.createdAt,
    e.prevHash,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Appends one entry inside the caller's transaction. The chain head row is locked (PostgreSQL:
 * FOR UPDATE; SQLite has one writer), so concurrent writers take consecutive numbers and each
 * links to the hash committed before it.
 */
export async function appendAudit(
  trx: Transaction<Schema>,
  dialect: DialectName,
  entry: AuditEntry,
  now: Date,
): Promise<StoredAuditEntry> {
  let head = trx.selectFrom('audit_chain_head').select(['seq', 'hash']).where('name', '=', 'audit');
  if (dialect === 'postgres') head = head.forUpdate();
  const current = await head.executeTakeFirstOrThrow();
  const stored: Omit<StoredAuditEntry, 'hash'> = {
    seq: Number(current.seq) + 1,
    merchantId: entry.merchantId,
    actorKind: entry.actor.kind,
    actorId: entry.actor.id,
    actorLabel: entry.actor.label,
    action: entry.action,
    targetKind: entry.target?.kind ?? null,
    targetId: entry.target?.id ?? null,
    reason: entry.reason,
    details: JSON.stringify(entry.details),
    createdAt: now.toISOString(),
    prevHash: current.hash,
  };
  const hash = auditHash(stored);
  await trx
    .insertInto('audit_log')
    .values(toRow({ ...stored, hash }))
    .execute();
  await trx
    .updateTable('audit_chain_head')
    .set({ seq: stored.seq, hash })
    .where('name', '=', 'audit')
    .execute();
  return { ...stored, hash };
}

function toRow(e: StoredAuditEntry): AuditLogTable {
  return {
    seq: e.seq,
    merchant_id: e.merchantId,
    actor_kind: e.actorKind,
    actor_id: e.actorId,
    actor_label: e.actorLabel,
    action: e.action,
    target_kind: e.targetKind,
    target_id: e.targetId,
    reason: e.reason,
    details: e.details,
    created_at: e.createdAt,
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

export function fromRow(r: AuditLogTable): StoredAuditEntry {
  return {
    seq: Number(r.seq),
    merchantId: r.merchant_id,
    actorKind: r.actor_kind,
    actorId: r.actor_id,
    actorLabel: r.actor_label,
    action: r.action,
    targetKind: r.target_kind,
    targetId: r.target_id,
    reason: r.reason,
    details: r.details,
    createdAt: r.created_at,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** A merchant's entries, newest first, keyset-paginated on seq; optionally for one target. */
export async function listAudit(
  db: Kysely<Schema>,
  merchantId: string,
  params: { limit: number; before?: number | undefined; targetId?: string | undefined },
): Promise<StoredAuditEntry[]> {
  let q = db
    .selectFrom('audit_log')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .orderBy('seq', 'desc')
    .limit(params.limit);
  if (params.before !== undefined) q = q.where('seq', '<', params.before);
  if (params.targetId !== undefined) q = q.where('target_id', '=', params.targetId);
  return (await q.execute()).map(fromRow);
}
