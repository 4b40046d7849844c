import { WebhookVerificationError as LibraryError, Webhook } from 'standardwebhooks';
import { WebhookVerificationError } from "./errors.js";
/**
 * Verifies a Tally webhook with the official Standard Webhooks library: the HMAC over
 * "<webhook-id>.<webhook-timestamp>.<raw body>" under the endpoint's whsec_ secret, and a
 * timestamp within 5 minutes (replay protection). Pass the raw body exactly as received: parsing
 * and re-serialising JSON changes the bytes and breaks the signature.
 */
export function verifyWebhook(secret, rawBody, headers) {
    const get = (name) => {
        const v = headers instanceof Headers ? headers.get(name) : headers[name];
        return (Array.isArray(v) ? v[0] : v) ?? '';
    };
    try {
        const payload = new Webhook(secret).verify(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'), {
            'webhook-id': get('webhook-id'),
            'webhook-timestamp': get('webhook-timestamp'),
            'webhook-signature': get('webhook-signature'),
        });
        return payload;
    }
    catch (error) {
        if (error instanceof LibraryError)
            throw new WebhookVerificationError(error.message);
        throw new WebhookVerificationError(error.message);
    }
}
