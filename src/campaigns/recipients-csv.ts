// A campaign's recipients as CSV (SPEC §14): one header line, then every recipient in list order
// with state, times and failure, read a page at a time as the client takes them, so memory stays
// bounded whatever the size. Cells follow RFC 4180 (quoted when they hold a comma, quote or line
// break) and a cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading
// apostrophe: error titles and parameters come from outside.
import { toIso } from '../lib/clock.js';
import { campaignsRepo, type RecipientRow } from '../store/campaigns-repo.js';
import type { Db } from '../store/db.js';
import type { RecipientState } from '../store/tables.js';

export const CSV_COLUMNS = [
  'index',
  'wa_id',
  'state',
  'wamid',
  'sent_at',
  'delivered_at',
  'read_at',
  'replied_at',
  'failed_at',
  'error_code',
  'error_title',
  'conversation_id',
  'parameters',
] as const;

/** Rows read per page (one query each). */
export const CSV_PAGE = 1000;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: (string | number | null | undefined)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : toIso(ms));

function recipientLine(r: RecipientRow): string {
  return csvLine([
    r.index,
    r.wa_id,
    r.state,
    r.wamid,
    iso(r.sent_at),
    iso(r.delivered_at),
    iso(r.read_at),
    iso(r.replied_at),
    iso(r.failed_at),
    r.error_code,
    r.error_title,
    r.conversation_id,
    r.parameters,
  ]);
}

/** The CSV as a stream that reads the next page only when the client has taken the last one. */
export function recipientsCsv(
  db: Db,
  campaignId: string,
  state: RecipientState | undefined,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: number | undefined;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(csvLine([...CSV_COLUMNS])));
          return;
        }
        const rows = await campaignsRepo.recipientsPage(db, campaignId, state, CSV_PAGE, after);
        if (rows.length > 0) {
          after = (rows[rows.length - 1] as RecipientRow).index;
          controller.enqueue(encoder.encode(rows.map(recipientLine).join('')));
        }
        if (rows.length < CSV_PAGE) controller.close();
      },
    },
    { highWaterMark: 1 },
  );
}
