import { TallyError } from '../core/errors.ts';

const MAX_DEPTH = 32;

/**
 * Our own JSON body parser: JSON.parse in a try, then an iterative depth and prototype-key check.
 * Hostile bodies (deep nesting, "__proto__" keys, invalid JSON) become coded 4xx errors; nothing
 * recursive runs on attacker-controlled depth.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TallyError('invalid_json');
  }
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item || typeof item.v !== 'object' || item.v === null) continue;
    if (item.d >= MAX_DEPTH)
      throw new TallyError('invalid_json', `The body is nested deeper than ${MAX_DEPTH} levels.`);
    if (Array.isArray(item.v)) {
      for (const child of item.v) stack.push({ v: child, d: item.d + 1 });
      continue;
    }
    for (const key of Object.keys(item.v)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        throw new TallyError('invalid_json', `The key "${key}" is not allowed.`);
      }
      stack.push({ v: (item.v as Record<string, unknown>)[key], d: item.d + 1 });
    }
  }
  return value;
}
