/**
 * Keyset pagination: queries fetch `limit + 1` rows ordered by id; the extra row only tells
 * whether another page exists. `next_cursor` is the last id returned, for `starting_after`.
 */
export function toPage<R extends { id: string }, T>(rows: readonly R[], limit: number, map: (row: R) => T) {
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return {
    object: 'list' as const,
    data: page.map(map),
    has_more: hasMore,
    next_cursor: hasMore ? (page.at(-1)?.id ?? null) : null,
  };
}
