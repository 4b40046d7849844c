import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, type ErrorCode, type FieldIssue, TallyError } from '../core/errors.ts';
import { isUniqueViolation } from '../db/unique-violation.ts';

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  /** Present because Ajv runs with `verbose`. */
  parentSchema?: { description?: string };
}

/** "/price/amount" → "price.amount"; "/payment_options/0/asset" → "payment_options[0].asset". */
function toPath(context: string, instancePath: string, params: Record<string, unknown>): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (typeof params.additionalProperty === 'string') parts.push(params.additionalProperty);
  if (typeof params.missingProperty === 'string') parts.push(params.missingProperty);
  let out = context === 'body' ? '' : `${context}.`;
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out && !out.endsWith('.') ? `.${p}` : p;
  return out || context;
}

function issueMessage(issue: AjvIssue): string {
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'pattern') {
    // Schemas describe their format in words ("a decimal string such as …"); say that, not the regex.
    const description = issue.parentSchema?.description;
    return description ? `must be ${description}` : 'has an invalid format';
  }
  return issue.message ?? 'is invalid';
}

/**
 * One issue per field. A value outside a union of literals makes Ajv report every branch ("must be
 * equal to constant" once per allowed value); those become one "must be one of: …".
 */
function collapse(issues: Array<FieldIssue & { allowed?: unknown }>): FieldIssue[] {
  const byPath = new Map<string, { messages: string[]; allowed: unknown[] }>();
  for (const issue of issues) {
    const entry = byPath.get(issue.path) ?? { messages: [], allowed: [] };
    if (issue.allowed !== undefined) entry.allowed.push(issue.allowed);
    else if (!entry.messages.includes(issue.message)) entry.messages.push(issue.message);
    byPath.set(issue.path, entry);
  }
  return [...byPath].map(([path, { messages, allowed }]) => {
    const oneOf = allowed.length > 0 ? `must be one of: ${allowed.map(String).join(', ')}` : null;
    const rest = messages.filter((m) => m !== 'must match a schema in anyOf');
    return { path, message: oneOf ?? rest[0] ?? messages[0] ?? 'is invalid' };
  });
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

/** The one place errors become HTTP responses: `{error:{code,message,details}}`. */
export function mapError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let code: ErrorCode = 'internal';
  let message: string = ERROR_CATALOGUE.internal.message;
  let details: unknown;
  const fastifyError = error as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (error instanceof TallyError) {
    code = error.code;
    message = error.message;
    details = error.details;
  } else if (isUniqueViolation(error)) {
    // A race the service's own existence check lost (two requests creating the same thing).
    code = 'duplicate';
    message = ERROR_CATALOGUE.duplicate.message;
  } else if (fastifyError.validation) {
    const issues = collapse(
      fastifyError.validation.map((i) => ({
        path: toPath(fastifyError.validationContext ?? 'body', i.instancePath, i.params),
        message: issueMessage(i),
        ...(i.keyword === 'const' ? { allowed: i.params.allowedValue } : {}),
      })),
    );
    code = 'validation_failed';
    message = issues[0] ? `${issues[0].path}: ${issues[0].message}` : 'The request is invalid.';
    details = { issues };
  } else if (fastifyError.code && FASTIFY_CODES[fastifyError.code]) {
    code = FASTIFY_CODES[fastifyError.code] ?? 'internal';
    message = ERROR_CATALOGUE[code].message;
  } else if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    code =
      fastifyError.statusCode === 404
        ? 'not_found'
        : fastifyError.statusCode === 415
          ? 'unsupported_media_type'
          : 'validation_failed';
    message = ERROR_CATALOGUE[code].message;
  } else {
    request.log.error({ err: error }, 'unhandled error');
  }
  const body: { error: { code: string; message: string; details?: unknown } } = { error: { code, message } };
  if (details !== undefined) body.error.details = details;
  return reply.status(ERROR_CATALOGUE[code].status).send(body);
}
