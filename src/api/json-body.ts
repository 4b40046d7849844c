import { TallyError, validationError } from '../core/errors.ts';

const MAX_DEPTH = 32;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Why a string cannot be stored as sent, or null: NUL (PostgreSQL text cannot hold it, so it would
 * fail as a 500) and unpaired surrogates (not Unicode; the database would store U+FFFD instead).
 */
export function badStringReason(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain NUL characters';
  return LONE_SURROGATE.test(value) ? 'must be valid Unicode' : null;
}

/** The body bytes as UTF-8; invalid bytes are refused rather than silently replaced with U+FFFD. */
export function decodeJsonBytes(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new TallyError('invalid_json', 'The request body is not valid UTF-8.');
  }
}

/**
 * Our own JSON body parser: JSON.parse in a try, then an iterative depth, prototype-key and string
 * check. Hostile bodies (deep nesting, "__proto__" keys, invalid JSON) become coded 4xx errors;
 * nothing recursive runs on attacker-controlled depth.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TallyError('invalid_json');
  }
  const stack: Array<{ v: unknown; d: number; p: string }> = [{ v: value, d: 0, p: '' }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item) continue;
    if (typeof item.v === 'string') {
      const reason = badStringReason(item.v);
      if (reason) throw validationError([{ path: item.p || 'body', message: reason }]);
      continue;
    }
    if (typeof item.v !== 'object' || item.v === null) continue;
    if (item.d >= MAX_DEPTH)
      throw new TallyError('invalid_json', `The body is nested deeper than ${MAX_DEPTH} levels.`);
    if (Array.isArray(item.v)) {
      for (const [i, child] of item.v.entries())
        stack.push({ v: child, d: item.d + 1, p: `${item.p}[${i}]` });
      continue;
    }
    for (const key of Object.keys(item.v)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        throw new TallyError('invalid_json', `The key "${key}" is not allowed.`);
      }
      const path = item.p ? `${item.p}.${key}` : key;
      const reason = badStringReason(key);
      if (reason) throw validationError([{ path, message: `key ${reason}` }]);
      stack.push({ v: (item.v as Record<string, unknown>)[key], d: item.d + 1, p: path });
    }
  }
  return value;
}
