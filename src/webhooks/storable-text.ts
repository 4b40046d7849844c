/** Unpaired surrogates (in a `u` regex, a well-formed pair is one code point and never matches). */
const LONE_SURROGATE = /\p{Cs}/gu;

/**
 * Text a receiver chose (its response body, an error it caused) made safe to store: PostgreSQL
 * text cannot hold NUL (the INSERT fails), and an unpaired surrogate is not Unicode (cutting a
 * body at the excerpt limit can split a pair). Each becomes U+FFFD, so the excerpt still shows
 * that something was there.
 */
export function storableText(value: string): string {
  return value.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
}
