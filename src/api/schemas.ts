import { Type } from '@sinclair/typebox';

/** Wire building blocks shared by routes. Amounts are decimal strings, never JSON numbers. */
export const Amount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,77})(\\.[0-9]{1,36})?$',
  maxLength: 120,
  description: 'a non-negative decimal string such as "12.34" (no sign, no exponent)',
  examples: ['12.34'],
});

export const Currency = Type.String({
  pattern: '^[A-Z][A-Z0-9]{1,9}$',
  description: 'an ISO-4217 code such as "USD", or an asset code such as "BTC"',
});
export const AssetCode = Type.String({
  pattern: '^[A-Z][A-Z0-9]{1,9}$',
  description: 'an asset code in capitals, such as "BTC" or "USDC"',
});
export const NetworkId = Type.String({
  pattern: '^[a-z][a-z0-9-]{1,39}$',
  description: 'a network id in lower case, such as "bitcoin" or "evm-devnet"',
});
const Url = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 });

export const IdParam = (prefix: string) =>
  Type.Object({ id: Type.String({ pattern: `^${prefix}_[0-9a-z]{26}$` }) }, { additionalProperties: false });

export const Limit = Type.String({
  pattern: '^([1-9]|[1-9][0-9]|100)$',
  description: 'a whole number from 1 to 100',
});
export const Cursor = Type.String({
  pattern: '^[a-z]{3}_[0-9a-z]{26}$',
  description: 'an id from a previous page (next_cursor)',
});

export const ConfirmationTier = Type.Object(
  {
    max_value: Type.Union([Amount, Type.Null()]),
    confirmations: Type.Integer({ minimum: 1, maximum: 1000 }),
  },
  { additionalProperties: false },
);

export const PolicyInput = Type.Object(
  {
    expiry_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400 })),
    monitoring_window_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 90 * 86400 })),
    underpayment_tolerance_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000 })),
    overpayment_tolerance_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
    value_currency: Type.Optional(Currency),
    zero_conf_max_value: Type.Optional(Type.Union([Amount, Type.Null()])),
    confirmation_tiers: Type.Optional(
      Type.Record(NetworkId, Type.Array(ConfirmationTier, { minItems: 1, maxItems: 10 }), {
        maxProperties: 20,
      }),
    ),
  },
  { additionalProperties: false },
);

export const CreateInvoiceBody = Type.Object(
  {
    price: Type.Object({ amount: Amount, currency: Currency }, { additionalProperties: false }),
    payment_options: Type.Optional(
      Type.Array(Type.Object({ asset: AssetCode, network: NetworkId }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 10,
      }),
    ),
    merchant_order_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    customer_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    metadata: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$' }), Type.String({ maxLength: 500 }), {
        maxProperties: 20,
      }),
    ),
    expires_in_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86400 })),
    success_url: Type.Optional(Url),
    cancel_url: Type.Optional(Url),
    policy: Type.Optional(PolicyInput),
  },
  { additionalProperties: false },
);

export const Reason = Type.String({ minLength: 3, maxLength: 2000 });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  }),
});
