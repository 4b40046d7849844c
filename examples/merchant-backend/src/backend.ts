/**
 * An example merchant backend receiving Tally webhooks the way the seeds prescribe:
 * 1. verify the signature (official Standard Webhooks library, through @tally/sdk);
 * 2. store the raw event, unique by webhook-id (a redelivery is absorbed here);
 * 3. acknowledge at once (204) — the gateway's timeout never depends on our business logic;
 * 4. process asynchronously and idempotently;
 * 5. fulfil only from the gateway's current invoice state (GET /v1/invoices/{id}), never from the
 *    event alone: events can arrive late, twice or out of order, the invoice state is the truth.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import {
  type TallyClient,
  type TallyEvent,
  verifyWebhook,
  WebhookVerificationError,
} from '../../../packages/sdk/src/index.ts';

const FULFILLABLE = new Set(['paid', 'overpaid', 'late_paid']);

export interface BackendOptions {
  client: TallyClient;
  webhookSecret: string;
  /** SQLite file for the inbox and the orders. */
  dbPath: string;
}

export class MerchantBackend {
  readonly db: Database.Database;
  private readonly server: Server;
  private processing: Promise<void> | null = null;
  private again = false;
  private secret: string;

  constructor(private readonly options: BackendOptions) {
    this.secret = options.webhookSecret;
    this.db = new Database(options.dbPath);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      create table if not exists inbox (
        webhook_id text primary key, type text not null, invoice_id text, payload text not null,
        received_at text not null, processed_at text);
      create table if not exists fulfilments (
        invoice_id text primary key, fulfilled_at text not null, status_seen text not null);`);
    this.server = createServer((req, res) => {
      void this.receive(req).then(
        (status) => {
          res.writeHead(status);
          res.end();
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  }

  /** The secret is known only once the endpoint is registered (and changes on rotation). */
  setWebhookSecret(secret: string): void {
    this.secret = secret;
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks`;
  }

  /** Steps 1-3: verify, store unique by webhook-id, acknowledge. Processing happens after. */
  private async receive(req: IncomingMessage): Promise<number> {
    if (req.method !== 'POST' || req.url !== '/webhooks') return 404;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let event: TallyEvent;
    try {
      event = verifyWebhook(this.secret, Buffer.concat(chunks), req.headers);
    } catch (error) {
      if (error instanceof WebhookVerificationError) return 400;
      throw error;
    }
    // The webhook-id header equals event.id; it is what identifies redeliveries.
    this.db
      .prepare(
        'insert into inbox (webhook_id, type, invoice_id, payload, received_at) values (?, ?, ?, ?, ?) on conflict do nothing',
      )
      .run(
        event.id,
        event.type,
        event.data.invoice?.id ?? null,
        JSON.stringify(event),
        new Date().toISOString(),
      );
    this.kick();
    return 204;
  }

  private kick(): void {
    if (this.processing) {
      this.again = true;
      return;
    }
    this.processing = this.processInbox().finally(() => {
      this.processing = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Steps 4-5. A failure (gateway unreachable) leaves the row unprocessed for the next run. */
  private async processInbox(): Promise<void> {
    const rows = this.db
      .prepare('select webhook_id, invoice_id from inbox where processed_at is null order by received_at')
      .all() as Array<{ webhook_id: string; invoice_id: string | null }>;
    for (const row of rows) {
      try {
        if (row.invoice_id) await this.reconcileInvoice(row.invoice_id);
        this.db
          .prepare('update inbox set processed_at = ? where webhook_id = ?')
          .run(new Date().toISOString(), row.webhook_id);
      } catch {
        // keep it for the next run
      }
    }
  }

  /** Whatever the event said, ask the gateway; fulfil once, and only a paid invoice. */
  private async reconcileInvoice(invoiceId: string): Promise<void> {
    const invoice = await this.options.client.getInvoice(invoiceId);
    if (!FULFILLABLE.has(invoice.status)) return;
    const inserted = this.db
      .prepare(
        'insert into fulfilments (invoice_id, fulfilled_at, status_seen) values (?, ?, ?) on conflict do nothing',
      )
      .run(invoiceId, new Date().toISOString(), invoice.status);
    if (inserted.changes === 1 && invoice.fulfilment === null)
      await this.options.client.reportFulfilment(invoiceId, { reference: `shipment-${invoiceId.slice(-6)}` });
  }

  /** Waits until every stored event has been processed (tests). */
  async idle(): Promise<void> {
    while (this.processing) await this.processing;
  }

  async close(): Promise<void> {
    await this.idle();
    this.server.closeAllConnections();
    this.server.close();
    this.db.close();
  }
}
