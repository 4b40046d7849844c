import type { RouteDef } from '../route.ts';
import { adminRoutes } from './admin.ts';
import { invoiceRoutes } from './invoices.ts';

export const ALL_ROUTES: RouteDef[] = [...invoiceRoutes, ...adminRoutes];
