import { appendAudit } from '../../audit/audit-log.ts';
import type { Permission } from '../../auth/permissions.ts';
import type { SessionUser } from '../../auth/sessions.ts';
import type { Tally } from '../../context.ts';
import { TallyError, validationError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { iso } from '../../db/values.ts';
import { getException, resolveException } from '../../exceptions/exception-service.ts';
import { applyFactInTransaction } from '../../invoices/apply-fact.ts';
import { redeliver } from '../../webhooks/redelivery.ts';
import { requirePermission } from './guard.ts';

/**
 * Dashboard actions on one invoice (docs/decisions/0009). Support actions help a customer without
 * moving money or changing what the merchant is owed; dangerous ones do, so they need an owner or
 * admin AND a written reason. The permission is checked here, on the server, whatever the page
 * showed. Each action writes its audit entry in the same transaction as its effect, except
 * resolving an exception and redelivering a webhook, which run in their modules' own transactions
 * and are audited right after they commit.
 */
export const ACTIONS = {
  share_link: 'support_action',
  mark_review: 'support_action',
  clear_review: 'support_action',
  attach_evidence: 'support_action',
  escalate_wrong_network: 'support_action',
  request_top_up: 'support_action',
  approve_overpayment: 'support_action',
  redeliver: 'support_action',
  mark_paid: 'dangerous_action',
  mark_failed: 'dangerous_action',
  resolve: 'dangerous_action',
} as const satisfies Record<string, Permission>;
export type DashboardAction = keyof typeof ACTIONS;

/** The note that takes an invoice out of the review queue. */
export const REVIEW_CLEARED = 'review_cleared';

export const DANGEROUS_RESOLUTIONS = ['accepted', 'refund_requested', 'refunded', 'dismissed'] as const;

export type ActionForm = Record<string, string | undefined>;

function text(form: ActionForm, field: string, max: number, required: boolean): string | null {
  const value = (form[field] ?? '').trim();
  if (value === '') {
    if (required) throw validationError([{ path: field, message: 'is required' }]);
    return null;
  }
  if (value.length > max)
    throw validationError([{ path: field, message: `must be at most ${max} characters` }]);
  return value;
}

async function openException(
  tally: Tally,
  merchantId: string,
  invoiceId: string,
  form: ActionForm,
  kinds: string[],
) {
  const id = text(form, 'exception_id', 40, true) ?? '';
  const exception = await getException(tally, merchantId, id);
  if (exception.invoice_id !== invoiceId || exception.status !== 'open' || !kinds.includes(exception.kind)) {
    throw validationError([
      { path: 'exception_id', message: `must name an open ${kinds.join(' or ')} exception of this invoice` },
    ]);
  }
  return exception;
}

export async function runAction(
  tally: Tally,
  user: SessionUser,
  invoiceId: string,
  form: ActionForm,
): Promise<string> {
  const action = form.action as DashboardAction;
  if (!Object.hasOwn(ACTIONS, action))
    throw validationError([{ path: 'action', message: 'is not a known action' }]);
  requirePermission(user, ACTIONS[action]);
  const dangerous = ACTIONS[action] === 'dangerous_action';
  const reason = text(form, 'reason', 1000, dangerous);
  const merchantId = user.merchantId;
  const { database } = tally;
  const actor = { kind: 'user' as const, id: user.userId, label: user.email };
  const audit = (
    trx: Parameters<Parameters<typeof database.write>[0]>[0],
    details: Record<string, unknown>,
  ) =>
    appendAudit(
      trx,
      database.dialect,
      {
        merchantId,
        actor,
        action: `invoice.${action}`,
        target: { kind: 'invoice', id: invoiceId },
        reason,
        details,
      },
      tally.clock.now(),
    );
  const exists = await database.read
    .selectFrom('invoices')
    .select('id')
    .where('id', '=', invoiceId)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  if (!exists) throw new TallyError('not_found', `No invoice ${invoiceId}.`);

  const note = async (
    kind: string,
    body: string,
    exceptionId: string | null,
    details: Record<string, unknown>,
  ) =>
    database.write(async (trx) => {
      await trx
        .insertInto('invoice_notes')
        .values({
          id: newId('act'),
          merchant_id: merchantId,
          invoice_id: invoiceId,
          kind,
          body,
          exception_id: exceptionId,
          user_id: user.userId,
          created_at: iso(tally.clock.now()),
        })
        .execute();
      await audit(trx, details);
    });

  switch (action) {
    case 'share_link':
      await note('link_shared', reason ?? `/pay/${invoiceId}`, null, { link: `/pay/${invoiceId}` });
      break;
    case 'mark_review':
      await note('review', text(form, 'reason', 1000, true) ?? '', null, {});
      break;
    case 'clear_review':
      // Takes the invoice out of the review queue; a later mark puts it back (queues.ts).
      await note(REVIEW_CLEARED, text(form, 'reason', 1000, true) ?? '', null, {});
      break;
    case 'attach_evidence': {
      const tx = text(form, 'tx_hash', 100, true) ?? '';
      if (!/^(0x)?[0-9a-fA-F]{64}$/.test(tx))
        throw validationError([{ path: 'tx_hash', message: 'must be a 64-hex-digit transaction hash' }]);
      await note('evidence', tx, null, { tx_hash: tx });
      break;
    }
    case 'escalate_wrong_network': {
      const e = await openException(tally, merchantId, invoiceId, form, ['wrong_network', 'wrong_asset']);
      await note('escalation', reason ?? `escalated ${e.kind}`, e.id, { exception_id: e.id });
      break;
    }
    case 'request_top_up':
    case 'approve_overpayment': {
      const request = action === 'request_top_up';
      const e = await openException(tally, merchantId, invoiceId, form, [
        request ? 'underpayment' : 'overpayment',
      ]);
      await resolveException(tally, merchantId, e.id, {
        resolution: request ? 'top_up_requested' : 'accepted',
        reason: reason ?? (request ? 'customer asked to top up' : 'overpayment kept as credit per policy'),
        actor: `user:${user.userId}`,
      });
      await database.write((trx) => audit(trx, { exception_id: e.id }));
      break;
    }
    case 'redeliver': {
      const deliveryId = text(form, 'delivery_id', 40, true) ?? '';
      await redeliver(tally, merchantId, deliveryId);
      await database.write((trx) => audit(trx, { delivery_id: deliveryId }));
      break;
    }
    case 'mark_paid':
    case 'mark_failed':
      await database.write(async (trx) => {
        const outcome = await applyFactInTransaction(tally, trx, merchantId, invoiceId, {
          kind: action,
          id: `op:${newId('act')}`,
          actor: { kind: 'user', id: user.userId },
          reason: reason ?? '',
        });
        if (outcome.rejected)
          throw new TallyError('invalid_state', `Cannot ${action.replace('_', ' ')}: ${outcome.rejected}.`);
        await audit(trx, { status: outcome.invoice.status });
      });
      break;
    case 'resolve': {
      const resolution = form.resolution ?? '';
      if (!(DANGEROUS_RESOLUTIONS as readonly string[]).includes(resolution)) {
        throw validationError([
          { path: 'resolution', message: `must be one of ${DANGEROUS_RESOLUTIONS.join(', ')}` },
        ]);
      }
      const e = await getException(tally, merchantId, text(form, 'exception_id', 40, true) ?? '');
      if (e.invoice_id !== invoiceId)
        throw validationError([{ path: 'exception_id', message: 'is not an exception of this invoice' }]);
      await resolveException(tally, merchantId, e.id, {
        resolution,
        reason: reason ?? '',
        actor: `user:${user.userId}`,
      });
      await database.write((trx) => audit(trx, { exception_id: e.id, resolution }));
      break;
    }
    default: {
      const never: never = action;
      throw validationError([{ path: 'action', message: `unknown ${String(never)}` }]);
    }
  }
  return action;
}
