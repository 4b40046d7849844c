import { Type } from '@sinclair/typebox';
import { EXCEPTION_RESOLUTIONS } from '../../exceptions/exception-service.ts';
import { DateTime, Id, Literals, Nullable, StringMap } from './common.ts';

/** src/exceptions/serialize-exception.ts: the API's and the exception.* events' one shape. */
export const Exception = Type.Object({
  id: Id('exc'),
  object: Type.Literal('exception'),
  kind: Type.String({ description: 'overpayment, underpayment, late, duplicate, wrong_network, …' }),
  invoice_id: Id('inv'),
  payment_id: Nullable(Type.String()),
  evidence: StringMap(Type.Unknown(), {
    description: 'what the kind calls for (amounts, txids); free-form per kind',
  }),
  status: Literals(['open', 'resolved']),
  resolution: Nullable(Literals(EXCEPTION_RESOLUTIONS)),
  resolved_by: Nullable(Type.String()),
  resolved_reason: Nullable(Type.String()),
  created_at: DateTime,
  resolved_at: Nullable(DateTime),
});
