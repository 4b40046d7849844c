/** Error codes of the Tally API (the server's catalogue: src/core/errors.ts). */
export type TallyErrorCode = 'validation_failed' | 'invalid_json' | 'body_too_large' | 'unsupported_media_type' | 'unauthenticated' | 'forbidden' | 'not_found' | 'route_not_found' | 'method_not_allowed' | 'idempotency_key_in_use' | 'idempotency_key_reused' | 'invalid_state' | 'refund_in_flight' | 'conflict' | 'duplicate' | 'rate_unavailable' | 'no_wallet' | 'unsupported_asset' | 'private_key_refused' | 'invalid_xpub' | 'rate_limited' | 'service_unavailable' | 'internal';
export interface FieldIssue {
    path: string;
    message: string;
}
/** Any non-2xx answer: switch on `code`, never on the message. */
export declare class TallyApiError extends Error {
    readonly status: number;
    readonly code: TallyErrorCode | (string & {});
    readonly details: unknown;
    readonly name = "TallyApiError";
    constructor(status: number, code: TallyErrorCode | (string & {}), message: string, details: unknown);
    /** For 422 validation errors: which fields were wrong. */
    get issues(): FieldIssue[];
}
export declare class WebhookVerificationError extends Error {
    readonly name = "WebhookVerificationError";
}
