import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Schema } from '../db/schema.ts';
import {
  csvField,
  emptyTotals,
  REPORT_COLUMNS,
  type ReportParams,
  type ReportRow,
  settlementReport,
} from './report.ts';

export type ReportFormat = 'csv' | 'json';

/**
 * The report as text chunks, one chunk per page: CSV (header, then rows; the accountant's import)
 * or JSON (`{…, "rows": [...], "totals": {...}}`, the totals written last since they are summed
 * while streaming). Nothing is held beyond one page.
 */
export async function* reportText(
  db: Kysely<Schema>,
  params: ReportParams,
  format: ReportFormat,
): AsyncGenerator<string> {
  const totals = emptyTotals();
  if (format === 'csv') yield `${REPORT_COLUMNS.join(',')}\r\n`;
  else
    yield `{"object":"settlement_report","merchant_id":${JSON.stringify(params.merchantId)},"from":"${params.from.toISOString()}","to":"${params.to.toISOString()}","rows":[`;
  let first = true;
  for await (const page of settlementReport(db, params, totals, format === 'csv' ? 'csv' : 'rows')) {
    if (page.length === 0) continue;
    if (typeof page === 'string') yield page;
    else if (format === 'csv') yield page.map(csvLine).join('');
    else {
      yield `${first ? '' : ','}${page.map((r) => JSON.stringify(r)).join(',')}`;
      first = false;
    }
  }
  if (format === 'json') yield `],"totals":${JSON.stringify(totals)}}\n`;
}

function csvLine(row: ReportRow): string {
  let line = '';
  for (const c of REPORT_COLUMNS)
    line += (line === '' && c === REPORT_COLUMNS[0] ? '' : ',') + csvField(row[c]);
  return `${line}\r\n`;
}

export function reportStream(db: Kysely<Schema>, params: ReportParams, format: ReportFormat): Readable {
  return Readable.from(reportText(db, params, format), { objectMode: false });
}

/** The SQLite file behind the gateway, for the report's dedicated reader; undefined on PostgreSQL. */
export function sqlitePathOf(tally: {
  database: { dialect: string };
  config: { databaseUrl: string };
}): string | undefined {
  return tally.database.dialect === 'sqlite' ? tally.config.databaseUrl.replace(/^sqlite:/, '') : undefined;
}
