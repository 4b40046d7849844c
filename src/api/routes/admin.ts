import { type Static, Type } from '@sinclair/typebox';
import { createApiKey, listApiKeys, revokeApiKey } from '../../auth/api-keys.ts';
import {
  createUser,
  getMerchant,
  listUsers,
  serializeMerchant,
  updateMerchant,
  updateUserRole,
} from '../../auth/merchants.ts';
import { API_SCOPES, hasScope, USER_ROLES } from '../../auth/scopes.ts';
import { TallyError } from '../../core/errors.ts';
import { listAssets, listNetworks } from '../../core/registry.ts';
import { assetJson, networkJson } from '../../core/registry-json.ts';
import {
  EXCEPTION_RESOLUTIONS,
  getException,
  listExceptions,
  resolveException,
} from '../../exceptions/exception-service.ts';
import { forgetCreationContext } from '../../invoices/creation-context.ts';
import { mergePolicy } from '../../invoices/policy.ts';
import { checkPolicyAmounts, checkTierNetworks } from '../../invoices/policy-check.ts';
import { BITCOIN_SCRIPT_TYPES } from '../../wallets/families.ts';
import { addWallet, getWallet, listWallets } from '../../wallets/wallet-service.ts';
import { ref } from '../responses/index.ts';
import { defineRoute } from '../route.ts';
import { Cursor, IdParam, Limit, PolicyInput, Reason } from '../schemas.ts';

const WalletBody = Type.Object(
  {
    scope: Type.String({
      pattern: '^[a-z][a-z0-9-]{1,39}$',
      description: 'A Bitcoin network id, or "evm" for every EVM network',
    }),
    xpub: Type.String({ minLength: 1, maxLength: 300 }),
    script_type: Type.Optional(
      Type.Union(
        BITCOIN_SCRIPT_TYPES.map((t) => Type.Literal(t)),
        {
          description:
            "Bitcoin scopes only: p2wpkh (BIP84 native SegWit, default for xpub/zpub), p2tr (BIP86 Taproot; the m/86'/coin'/account' xpub) or p2sh-p2wpkh (BIP49 P2SH-wrapped SegWit, default for ypub)",
        },
      ),
    ),
    label: Type.Optional(Type.String({ maxLength: 200 })),
    master_fingerprint: Type.Optional(
      Type.String({
        maxLength: 8,
        description:
          "Bitcoin only, with account_path: the signer's master key fingerprint (8 hex digits, as in a descriptor's [d34db33f/84'/0'/0']). PSBT derivations then carry it and the full path, so hardware wallets and Bitcoin Core recognise their keys",
      }),
    ),
    account_path: Type.Optional(
      Type.String({
        maxLength: 120,
        description:
          "The xpub's BIP32 path from that master key, e.g. m/84'/0'/0' (h also accepted for hardened)",
      }),
    ),
  },
  { additionalProperties: false },
);
const KeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Array(Type.Union(API_SCOPES.map((s) => Type.Literal(s))), {
      minItems: 1,
      maxItems: API_SCOPES.length,
      uniqueItems: true,
    }),
  },
  { additionalProperties: false },
);
const Role = Type.Union(USER_ROLES.map((r) => Type.Literal(r)));
const UserBody = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }), role: Role },
  { additionalProperties: false },
);
const MerchantBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), policy: Type.Optional(PolicyInput) },
  { additionalProperties: false },
);
const ExceptionQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    starting_after: Type.Optional(Cursor),
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])),
    kind: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}$' })),
  },
  { additionalProperties: false },
);
const ResolveBody = Type.Object(
  { resolution: Type.Union(EXCEPTION_RESOLUTIONS.map((r) => Type.Literal(r))), reason: Reason },
  { additionalProperties: false },
);
type Id = { id: string };

export const adminRoutes = [
  defineRoute({
    method: 'GET',
    url: '/v1/merchant',
    operationId: 'getMerchant',
    summary: "The API key's merchant and its default policy",
    tag: 'merchant',
    scope: 'invoices:read',
    response: ref('Merchant'),
    handler: async (ctx) =>
      serializeMerchant(await getMerchant(ctx.tally.database.db, ctx.principal.merchantId)),
  }),
  defineRoute<unknown, unknown, Static<typeof MerchantBody>>({
    method: 'PATCH',
    url: '/v1/merchant',
    operationId: 'updateMerchant',
    summary: "Change the merchant's name or default policy (new invoices only)",
    tag: 'merchant',
    scope: 'admin',
    body: MerchantBody,
    response: ref('Merchant'),
    handler: async (ctx, { body }) => {
      const changes = stripUndefined(body);
      if (changes.policy) {
        checkTierNetworks(changes.policy);
        const current = await getMerchant(ctx.tally.database.db, ctx.principal.merchantId);
        checkPolicyAmounts(mergePolicy(current.policy, changes.policy), current.policy.value_currency);
      }
      const updated = await updateMerchant(ctx.tally.database.db, ctx.principal.merchantId, changes);
      forgetCreationContext(ctx.tally, ctx.principal.merchantId);
      return serializeMerchant(updated);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/wallets',
    operationId: 'listWallets',
    summary: 'Watch-only wallets (xpubs) with allocation, pool and address-gap status',
    tag: 'wallets',
    scope: 'invoices:read',
    response: ref('WalletList'),
    handler: async (ctx) => ({
      object: 'list',
      data: await listWallets(ctx.tally, ctx.principal.merchantId, hasScope(ctx.principal.scopes, 'admin')),
    }),
  }),
  defineRoute<unknown, unknown, Static<typeof WalletBody>>({
    method: 'POST',
    url: '/v1/wallets',
    operationId: 'addWallet',
    summary: 'Add an extended public key; private keys and seeds are refused and never stored',
    tag: 'wallets',
    scope: 'admin',
    idempotent: true,
    successStatus: 201,
    body: WalletBody,
    response: ref('Wallet'),
    handler: async (ctx, { body }) =>
      addWallet(ctx.tally, ctx.principal.merchantId, body, ctx.storeIdempotentResponse ?? undefined),
  }),
  defineRoute<Id>({
    method: 'GET',
    url: '/v1/wallets/:id',
    operationId: 'getWallet',
    summary: 'One wallet',
    tag: 'wallets',
    scope: 'invoices:read',
    params: IdParam('wal'),
    response: ref('Wallet'),
    handler: async (ctx, { params }) =>
      getWallet(ctx.tally, ctx.principal.merchantId, params.id, hasScope(ctx.principal.scopes, 'admin')),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/api-keys',
    operationId: 'listApiKeys',
    summary: 'API keys (never their secrets)',
    tag: 'api-keys',
    scope: 'admin',
    response: ref('ApiKeyList'),
    handler: async (ctx) => ({
      object: 'list',
      data: await listApiKeys(ctx.tally.database.db, ctx.principal.merchantId),
    }),
  }),
  defineRoute<unknown, unknown, Static<typeof KeyBody>>({
    method: 'POST',
    url: '/v1/api-keys',
    operationId: 'createApiKey',
    summary: 'Create a scoped API key; the token is shown once',
    tag: 'api-keys',
    scope: 'admin',
    idempotent: true,
    successStatus: 201,
    body: KeyBody,
    response: ref('CreatedApiKey'),
    handler: async (ctx, { body }) =>
      ctx.tally.database.write(async (trx) => {
        const key = await createApiKey(
          trx,
          ctx.principal.merchantId,
          body.name,
          body.scopes,
          ctx.tally.clock.now(),
        );
        const created = {
          id: key.id,
          object: 'api_key',
          name: body.name,
          scopes: body.scopes,
          token: key.token,
        };
        // The token is shown once and stored only hashed: a replay gets the key without it, never a stored copy.
        await ctx.storeIdempotentResponse?.(trx, { ...created, token: null });
        return created;
      }),
  }),
  defineRoute<Id>({
    method: 'POST',
    url: '/v1/api-keys/:id/revoke',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key at once',
    tag: 'api-keys',
    scope: 'admin',
    params: IdParam('key'),
    response: ref('RevokedApiKey'),
    handler: async (ctx, { params }) => {
      const merchantId = ctx.principal.merchantId;
      // One transaction, the merchant's key rows locked on PostgreSQL (SQLite has one writer): two
      // admin keys revoking each other at once must not each count the other as the one left.
      const after = await ctx.tally.database.write(async (trx) => {
        if (ctx.tally.database.dialect === 'postgres')
          await trx
            .selectFrom('api_keys')
            .select('id')
            .where('merchant_id', '=', merchantId)
            .forUpdate()
            .execute();
        const keys = await listApiKeys(trx, merchantId);
        const key = keys.find((k) => k.id === params.id);
        if (!key) throw new TallyError('not_found', `No API key ${params.id}.`);
        if (key.revoked_at !== null) return key; // revoking twice answers like once, as cancelling does
        // The last active admin key: revoking it would leave the merchant no way to administer
        // through the API (whichever key asks; two admin keys revoking each other at once would
        // otherwise both go). The CLI (`tally apikey revoke`) still can.
        const otherAdmin = keys.some(
          (k) => k.id !== key.id && k.revoked_at === null && k.scopes.includes('admin'),
        );
        if (key.scopes.includes('admin') && !otherAdmin)
          throw new TallyError(
            'invalid_state',
            'This is the last admin key: create another admin key first, or revoke it with `tally apikey revoke`.',
          );
        await revokeApiKey(trx, merchantId, key.id, ctx.tally.clock.now());
        return (await listApiKeys(trx, merchantId)).find((k) => k.id === key.id) ?? key;
      });
      return { ...after, revoked: true };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/users',
    operationId: 'listUsers',
    summary: "The merchant's users and roles",
    tag: 'users',
    scope: 'admin',
    response: ref('UserList'),
    handler: async (ctx) => ({
      object: 'list',
      data: await listUsers(ctx.tally.database.db, ctx.principal.merchantId),
    }),
  }),
  defineRoute<unknown, unknown, Static<typeof UserBody>>({
    method: 'POST',
    url: '/v1/users',
    operationId: 'createUser',
    summary: 'Add a user with a role (owner, admin, developer, support, finance)',
    tag: 'users',
    scope: 'admin',
    idempotent: true,
    successStatus: 201,
    body: UserBody,
    response: ref('User'),
    handler: async (ctx, { body }) =>
      ctx.tally.database.write(async (trx) => {
        const user = await createUser(
          trx,
          ctx.principal.merchantId,
          body.email,
          body.role,
          ctx.tally.clock.now(),
        );
        await ctx.storeIdempotentResponse?.(trx, user);
        return user;
      }),
  }),
  defineRoute<Id, unknown, { role: (typeof USER_ROLES)[number] }>({
    method: 'PATCH',
    url: '/v1/users/:id',
    operationId: 'updateUser',
    summary: "Change a user's role",
    tag: 'users',
    scope: 'admin',
    params: IdParam('usr'),
    body: Type.Object({ role: Role }, { additionalProperties: false }),
    response: ref('User'),
    handler: async (ctx, { params, body }) =>
      updateUserRole(ctx.tally.database.db, ctx.principal.merchantId, params.id, body.role),
  }),
  defineRoute<unknown, Static<typeof ExceptionQuery>>({
    method: 'GET',
    url: '/v1/exceptions',
    operationId: 'listExceptions',
    summary: 'The review queue: late, partial, duplicate, overpaid, unmatched, reorg-after-paid …',
    tag: 'exceptions',
    scope: 'invoices:read',
    querystring: ExceptionQuery,
    response: ref('ExceptionList'),
    handler: async (ctx, { query }) =>
      listExceptions(ctx.tally, ctx.principal.merchantId, {
        limit: Number(query.limit ?? 20),
        startingAfter: query.starting_after,
        status: query.status,
        kind: query.kind,
      }),
  }),
  defineRoute<Id>({
    method: 'GET',
    url: '/v1/exceptions/:id',
    operationId: 'getException',
    summary: 'One exception with its evidence',
    tag: 'exceptions',
    scope: 'invoices:read',
    params: IdParam('exc'),
    response: ref('Exception'),
    handler: async (ctx, { params }) => getException(ctx.tally, ctx.principal.merchantId, params.id),
  }),
  defineRoute<Id, unknown, Static<typeof ResolveBody>>({
    method: 'POST',
    url: '/v1/exceptions/:id/resolve',
    operationId: 'resolveException',
    summary: 'Resolve an exception with a written reason (admin scope)',
    tag: 'exceptions',
    scope: 'admin',
    params: IdParam('exc'),
    body: ResolveBody,
    response: ref('Exception'),
    handler: async (ctx, { params, body }) =>
      resolveException(ctx.tally, ctx.principal.merchantId, params.id, {
        ...body,
        actor: ctx.principal.keyId,
      }),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/assets',
    operationId: 'listAssets',
    summary: 'The asset and network registry',
    tag: 'registry',
    scope: null,
    response: ref('Registry'),
    handler: async () => ({ networks: listNetworks().map(networkJson), assets: listAssets().map(assetJson) }),
  }),
];

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
