import type { ExceptionsTable } from '../db/schema.ts';
import { toDate, toDateOrNull } from '../db/values.ts';

/**
 * The exception object of the API (GET /v1/exceptions/{id}) and of the `exception.opened` and
 * `exception.resolved` events: one shape everywhere, so a receiver parses it once. Its own module,
 * free of the invoice store, because the store's event builder (src/invoices/effect-rows.ts) uses it.
 */
export function serializeException(r: ExceptionsTable) {
  return {
    id: r.id,
    object: 'exception' as const,
    kind: r.kind,
    invoice_id: r.invoice_id,
    payment_id: r.payment_id,
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
    status: r.status,
    resolution: r.resolution,
    resolved_by: r.resolved_by,
    resolved_reason: r.resolved_reason,
    created_at: toDate(r.created_at).toISOString(),
    resolved_at: toDateOrNull(r.resolved_at)?.toISOString() ?? null,
  };
}
