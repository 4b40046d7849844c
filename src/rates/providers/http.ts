import { TallyError } from '../../core/errors.ts';
import { rateUnavailable } from '../errors.ts';

/**
 * The one HTTP GET the rate providers make. It bounds time (AbortSignal.timeout covers connect,
 * headers and body) and size, and turns every transport failure into rate_unavailable naming the
 * source. Interpreting status codes and bodies is the provider's job.
 */

/** A ticker for one pair is well under 2 KiB; anything this large is not an answer we want. */
const MAX_BODY_BYTES = 256 * 1024;

export interface GetTextOptions {
  source: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface TextResponse {
  status: number;
  text: string;
}

export async function getText(url: string, options: GetTextOptions): Promise<TextResponse> {
  const { source, timeoutMs } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await fetch(url, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'tally-rates' },
      redirect: 'error',
      signal,
    });
    const text = await readLimited(response, source);
    return { status: response.status, text };
  } catch (error) {
    if (timeout.aborted) throw rateUnavailable(source, `no answer within ${timeoutMs} ms`);
    if (options.signal?.aborted) throw rateUnavailable(source, 'request aborted by caller');
    if (error instanceof TallyError) throw error;
    throw rateUnavailable(source, `request failed (${describe(error)})`);
  }
}

async function readLimited(response: Response, source: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw rateUnavailable(source, `response too large (${declared} bytes)`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      throw rateUnavailable(source, `response larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a body as JSON, or fails naming the source (an HTML error page, a truncated body…). */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw rateUnavailable(source, 'response is not valid JSON');
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    const code = cause && typeof cause === 'object' && 'code' in cause ? String(cause.code) : null;
    return code ?? error.message;
  }
  return String(error);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
