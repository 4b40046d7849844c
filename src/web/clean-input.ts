import type { FastifyRequest } from 'fastify';
import { badStringReason } from '../api/json-body.ts';
import { type FieldIssue, TallyError } from '../core/errors.ts';
import { storableText } from '../webhooks/storable-text.ts';

/**
 * Web input refused before any handler sees it: a form field, query value or path segment with a
 * NUL (PostgreSQL text cannot hold one, so the lookup or INSERT it reaches fails as a 500) or an
 * unpaired surrogate; the JSON API refuses the same (badStringReason). A 422 naming the field, of
 * its own class so the dashboard can answer it with a page rather than JSON.
 */
export class RefusedWebInput extends TallyError {
  constructor(issue: FieldIssue) {
    super('validation_failed', `${issue.path}: ${issue.message}`, { issues: [issue] });
  }
}

/** A urlencoded form as field → value (a repeated field keeps its last value), every value checked. */
export function parseForm(body: string): Record<string, string> {
  const form = Object.fromEntries(new URLSearchParams(body));
  // Form fields are named bare ("reason"), as the dashboard's own form errors name them.
  refuseBadStrings('', form);
  return form;
}

/** Path parameters and query values: every web route checks them before its handler runs. */
export function refuseBadPathAndQuery(request: FastifyRequest): void {
  refuseBadStrings('params.', request.params);
  refuseBadStrings('querystring.', request.query);
}

function refuseBadStrings(prefix: string, values: unknown): void {
  if (!values || typeof values !== 'object') return;
  for (const [name, value] of Object.entries(values)) {
    // The name is echoed in the error (and the page): shown without what made it bad.
    const path = `${prefix}${storableText(name)}`;
    const nameReason = badStringReason(name);
    if (nameReason) throw new RefusedWebInput({ path, message: `name ${nameReason}` });
    // A repeated query key arrives as an array: each of its values is checked.
    for (const v of Array.isArray(value) ? value : [value]) {
      const reason = typeof v === 'string' ? badStringReason(v) : null;
      if (reason) throw new RefusedWebInput({ path, message: reason });
    }
  }
}
