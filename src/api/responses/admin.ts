import { Type } from '@sinclair/typebox';
import { API_SCOPES, USER_ROLES } from '../../auth/scopes.ts';
import { DateTime, Id, Literals, Nullable, Ref } from './common.ts';

/** Merchant, wallets, API keys, users and the asset registry (src/auth, src/wallets, src/core). */

export const Merchant = Type.Object({
  id: Id('mer'),
  object: Type.Literal('merchant'),
  name: Type.String(),
  policy: Ref('Policy'),
  created_at: DateTime,
});

/** src/wallets/address-gap.ts: Bitcoin wallets only (null for EVM). */
const AddressGap = Type.Object({
  unpaid_since_last_paid: Type.Integer({ minimum: 0 }),
  last_paid_index: Nullable(Type.Integer({ minimum: 0 })),
  highest_allocated_index: Nullable(Type.Integer({ minimum: 0 })),
  limit: Type.Integer(),
  warning_threshold: Type.Integer(),
  warning: Type.Boolean(),
  warned_at: Nullable(DateTime),
});

export const Wallet = Type.Object({
  id: Id('wal'),
  object: Type.Literal('wallet'),
  scope: Type.String({ description: 'a Bitcoin network id, or "evm" for every EVM network' }),
  family: Type.String(),
  script_type: Type.String(),
  xpub: Nullable(Type.String({ description: 'shown to admin keys only; null otherwise' })),
  key_fingerprint: Nullable(Type.String()),
  master_fingerprint: Nullable(Type.String()),
  account_path: Nullable(Type.String()),
  label: Nullable(Type.String()),
  next_index: Type.Integer({ minimum: 0 }),
  addresses_derived: Type.Integer({ minimum: 0 }),
  addresses_allocated: Type.Integer({ minimum: 0 }),
  pool_free: Type.Integer(),
  pool_target: Type.Integer({ minimum: 0 }),
  gap: Nullable(AddressGap),
  created_at: DateTime,
});

const Scopes = Type.Array(Literals(API_SCOPES));

export const ApiKey = Type.Object({
  id: Id('key'),
  object: Type.Literal('api_key'),
  name: Type.String(),
  scopes: Scopes,
  created_at: DateTime,
  revoked_at: Nullable(DateTime),
});

/** POST /v1/api-keys: the token is shown once (null on an idempotent replay; only its hash is kept). */
export const CreatedApiKey = Type.Object({
  id: Id('key'),
  object: Type.Literal('api_key'),
  name: Type.String(),
  scopes: Scopes,
  token: Nullable(Type.String({ pattern: '^tally_sk_' })),
});

export const RevokedApiKey = Type.Composite([ApiKey, Type.Object({ revoked: Type.Literal(true) })]);

export const User = Type.Object({
  id: Id('usr'),
  object: Type.Literal('user'),
  email: Type.String({ format: 'email' }),
  role: Literals(USER_ROLES),
  created_at: DateTime,
});

/** src/core/registry-json.ts: every field present, null rather than absent. */
export const Network = Type.Object({
  id: Type.String(),
  family: Type.String(),
  name: Type.String(),
  testnet: Type.Boolean(),
  local: Type.Boolean(),
  chain_id: Nullable(Type.Integer()),
  block_time_seconds: Type.Number(),
  default_confirmations: Type.Integer({ minimum: 0 }),
  finality: Type.Object({
    kind: Literals(['tag', 'blocks']),
    tag: Nullable(Type.String()),
  }),
});

export const Asset = Type.Object({
  code: Type.String(),
  network: Type.String(),
  name: Type.String(),
  decimals: Type.Integer({ minimum: 0 }),
  contract: Nullable(Type.String()),
  quote_as: Type.String({ description: 'the code rates are quoted for (USDC.e quotes as USDC)' }),
});

export const Registry = Type.Object({
  networks: Type.Array(Ref('Network')),
  assets: Type.Array(Ref('Asset')),
});
