import type { TallyEvent } from './types.ts';
export type HeaderBag = Record<string, string | string[] | undefined> | Headers;
/**
 * Verifies a Tally webhook with the official Standard Webhooks library: the HMAC over
 * "<webhook-id>.<webhook-timestamp>.<raw body>" under the endpoint's whsec_ secret, and a
 * timestamp within 5 minutes (replay protection). Pass the raw body exactly as received: parsing
 * and re-serialising JSON changes the bytes and breaks the signature.
 */
export declare function verifyWebhook(secret: string, rawBody: string | Buffer, headers: HeaderBag): TallyEvent;
