import type { RouteDef } from '../route.ts';
import { adminRoutes } from './admin.ts';
import { devRoutes } from './dev.ts';
import { invoiceRoutes } from './invoices.ts';
import { moneyRoutes } from './money.ts';
import { webhookRoutes } from './webhooks.ts';

export const ALL_ROUTES: RouteDef[] = [
  ...invoiceRoutes,
  ...adminRoutes,
  ...webhookRoutes,
  ...devRoutes,
  ...moneyRoutes,
];
