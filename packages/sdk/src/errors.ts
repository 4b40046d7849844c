/** Error codes of the Tally API (the server's catalogue: src/core/errors.ts). */
export type TallyErrorCode =
  | 'validation_failed'
  | 'invalid_json'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'idempotency_key_in_use'
  | 'idempotency_key_reused'
  | 'invalid_state'
  | 'refund_in_flight'
  | 'conflict'
  | 'duplicate'
  | 'rate_unavailable'
  | 'no_wallet'
  | 'unsupported_asset'
  | 'private_key_refused'
  | 'invalid_xpub'
  | 'rate_limited'
  | 'service_unavailable'
  | 'internal';

export interface FieldIssue {
  path: string;
  message: string;
}

/** Any non-2xx answer: switch on `code`, never on the message. */
export class TallyApiError extends Error {
  override readonly name = 'TallyApiError';
  constructor(
    readonly status: number,
    readonly code: TallyErrorCode | (string & {}),
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }

  /** For 422 validation errors: which fields were wrong. */
  get issues(): FieldIssue[] {
    const d = this.details as { issues?: FieldIssue[] } | null | undefined;
    return d?.issues ?? [];
  }
}

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}
