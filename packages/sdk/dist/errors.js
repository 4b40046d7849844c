/** Any non-2xx answer: switch on `code`, never on the message. */
export class TallyApiError extends Error {
    status;
    code;
    details;
    name = 'TallyApiError';
    constructor(status, code, message, details) {
        super(message);
        this.status = status;
        this.code = code;
        this.details = details;
    }
    /** For 422 validation errors: which fields were wrong. */
    get issues() {
        const d = this.details;
        return d?.issues ?? [];
    }
}
export class WebhookVerificationError extends Error {
    name = 'WebhookVerificationError';
}
