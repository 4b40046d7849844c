export { type CallInput, type ClientOptions, TallyClient } from './client.ts';
export { type FieldIssue, TallyApiError, type TallyErrorCode, WebhookVerificationError } from './errors.ts';
export { OPERATIONS, type OperationId } from './operations.ts';
export type * from './types.ts';
export { type HeaderBag, verifyWebhook } from './webhooks.ts';
