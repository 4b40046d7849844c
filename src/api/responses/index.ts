import type { TSchema } from '@sinclair/typebox';
import {
  ApiKey,
  Asset,
  CreatedApiKey,
  Merchant,
  Network,
  Registry,
  RevokedApiKey,
  User,
  Wallet,
} from './admin.ts';
import { List, Page, Ref } from './common.ts';
import { Event } from './events.ts';
import { Exception } from './exceptions.ts';
import { Invoice, Payment, PaymentOption, Policy, Transition } from './invoices.ts';
import { DevPayment, LedgerBalance, LedgerBalances, LedgerVerification, SettlementReport } from './money.ts';
import {
  Eip1559Transaction,
  PsbtTransaction,
  Refund,
  RefundDestination,
  RequestedRefund,
} from './refunds.ts';
import {
  Delivery,
  DeliveryAttempt,
  DeliveryWithAttempts,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  WebhookReplay,
  WebhookTest,
} from './webhooks.ts';

/**
 * components.schemas of /openapi.json: the shared response shapes, referenced by name (Ref in
 * ./common.ts) so a client generator makes one type per resource rather than one per route.
 */
export const RESPONSE_COMPONENTS = {
  Invoice,
  PaymentOption,
  Payment,
  Policy,
  Transition,
  Event,
  Exception,
  Refund,
  RequestedRefund,
  RefundDestination,
  PsbtTransaction,
  Eip1559Transaction,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  Delivery,
  DeliveryAttempt,
  DeliveryWithAttempts,
  WebhookTest,
  WebhookReplay,
  Merchant,
  Wallet,
  ApiKey,
  CreatedApiKey,
  RevokedApiKey,
  User,
  Network,
  Asset,
  Registry,
  LedgerBalance,
  LedgerBalances,
  LedgerVerification,
  SettlementReport,
  DevPayment,
  InvoiceList: Page('Invoice'),
  EventList: Page('Event'),
  ExceptionList: Page('Exception'),
  RefundList: Page('Refund'),
  WebhookEndpointList: Page('WebhookEndpoint'),
  DeliveryList: Page('Delivery'),
  TransitionList: List('Transition'),
  WalletList: List('Wallet'),
  ApiKeyList: List('ApiKey'),
  UserList: List('User'),
} satisfies Record<string, TSchema>;

export type ComponentName = keyof typeof RESPONSE_COMPONENTS;

/** A documented response body by component name (a typo fails to compile): `response: ref('Invoice')`. */
export const ref = (name: ComponentName) => Ref(name);
