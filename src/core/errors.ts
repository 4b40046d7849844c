/**
 * One catalogue of error codes. Domain code throws `TallyError(code, …)`; the HTTP layer maps the
 * code to a status in exactly one place (this table), so a code always means the same response.
 */
export const ERROR_CATALOGUE = {
  validation_failed: { status: 422, message: 'The request is invalid.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  body_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  unauthenticated: {
    status: 401,
    message: 'A valid API key is required: send it as the header "Authorization: Bearer tally_sk_…".',
  },
  forbidden: { status: 403, message: 'This API key lacks the scope for this action.' },
  not_found: { status: 404, message: 'No such resource.' },
  route_not_found: { status: 404, message: 'No such route.' },
  method_not_allowed: { status: 405, message: 'Method not allowed.' },
  idempotency_key_in_use: { status: 409, message: 'A request with this Idempotency-Key is still in flight.' },
  idempotency_key_reused: {
    status: 422,
    message: 'This Idempotency-Key was used with a different request body.',
  },
  invalid_state: { status: 409, message: 'The resource is not in a state that allows this action.' },
  refund_in_flight: {
    status: 409,
    message: 'A transaction paying this refund is already mined; the refund completes from it.',
  },
  conflict: { status: 409, message: 'The resource was changed concurrently; retry.' },
  duplicate: { status: 409, message: 'A resource with this identity already exists.' },
  rate_unavailable: { status: 503, message: 'No fresh exchange rate is available; nothing was created.' },
  no_wallet: { status: 422, message: 'The merchant has no wallet for this payment network.' },
  unsupported_asset: { status: 422, message: 'This asset or network is not supported.' },
  private_key_refused: {
    status: 422,
    message: 'That is a private key. Tally accepts extended public keys only; nothing was stored.',
  },
  invalid_xpub: { status: 422, message: 'The extended public key is invalid for this network.' },
  rate_limited: { status: 429, message: 'Too many requests.' },
  dev_mode_only: { status: 403, message: 'This exists in dev mode only.' },
  service_unavailable: { status: 503, message: 'The service is not ready.' },
  // Raised at boot, before anything listens; never an HTTP answer.
  invalid_config: { status: 500, message: 'The configuration is invalid.' },
  internal: { status: 500, message: 'Internal error.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface FieldIssue {
  path: string;
  message: string;
}

export class TallyError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'TallyError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

/** A 422 naming the fields at fault. */
export function validationError(issues: FieldIssue[]): TallyError {
  const first = issues[0];
  const message = first
    ? `${first.path || 'body'}: ${first.message}`
    : ERROR_CATALOGUE.validation_failed.message;
  return new TallyError('validation_failed', message, { issues });
}
