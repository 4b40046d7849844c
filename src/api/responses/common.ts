import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Building blocks of the documented response schemas (docs only: Fastify never serializes with
 * them, so a field a schema forgot cannot be silently dropped from a response; the drift test in
 * test/api/openapi-responses.test.ts holds the schemas to the real bodies instead).
 *
 * Every field a serializer writes is always present (null rather than absent), so every
 * property is required and nullable ones are `anyOf [X, null]`.
 */

/** What formatAmount writes: no sign, no exponent, no trailing fractional zeros. */
export const Decimal = Type.String({
  pattern: '^(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?$',
  description: 'a non-negative decimal string such as "12.34"',
  examples: ['12.34'],
});

/** Ledger balances: positive is a debit balance, negative a credit balance. */
export const SignedDecimal = Type.String({
  pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?$',
  description: 'a signed decimal string such as "-0.5"',
});

/** Smallest units of the asset (sat, wei) as digits: they overflow a JSON number. */
export const BaseUnits = Type.String({
  pattern: '^[0-9]+$',
  description: 'an amount in base units (sat, wei) as a digit string',
  examples: ['150000'],
});

export const SignedBaseUnits = Type.String({ pattern: '^-?[0-9]+$' });

export const DateTime = Type.String({ format: 'date-time', description: 'an RFC 3339 UTC time' });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Id = (prefix: string) => Type.String({ pattern: `^${prefix}_[0-9a-z]{26}$` });

export const Literals = (values: readonly string[], options: { description?: string } = {}) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );

/** A reference to a schema in components.schemas (see ./index.ts for the names). */
export const Ref = (name: string) => Type.Unsafe<unknown>({ $ref: `#/components/schemas/${name}` });

/** A cursor page: `next_cursor` is the last id, for `starting_after`; null on the last page. */
export const Page = (item: string) =>
  Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(Ref(item)),
    has_more: Type.Boolean(),
    next_cursor: Nullable(Type.String()),
  });

/** A whole list in one answer (small, per-merchant collections): no pagination fields. */
export const List = (item: string) =>
  Type.Object({ object: Type.Literal('list'), data: Type.Array(Ref(item)) });

/**
 * An object keyed by free strings (metadata, per-network tiers). `additionalProperties` rather than
 * TypeBox's Record (`patternProperties`), which client generators read poorly.
 */
export const StringMap = <T extends TSchema>(value: T, options: { description?: string } = {}) =>
  Type.Object({}, { ...options, additionalProperties: value });
