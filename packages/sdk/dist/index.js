export { TallyClient } from "./client.js";
export { TallyApiError, WebhookVerificationError } from "./errors.js";
export { OPERATIONS } from "./operations.js";
export { verifyWebhook } from "./webhooks.js";
