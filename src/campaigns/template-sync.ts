// Template sync (SPEC §14): with an access token and channels.waba_id, the template cache is replaced
// by what `GET /{waba_id}/message_templates` lists over every page, on start, every
// scheduler.template_sync_every and on the `sync_templates` recovery action. Pages are fetched first
// and written in one transaction after the last one (never a network call inside a transaction); an
// error, a page that is not what Meta sends, or too many pages leave the cache as it was and the sync
// status (settings `templates.sync`, shown by GET .../runtime/templates) says why. The same pass reads
// the phone number's messaging limit when none is configured (messaging-limit.ts).
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { type Clock, toIso } from '../lib/clock.js';
import { agentsRepo } from '../store/agents-repo.js';
import type { Db } from '../store/db.js';
import { settingsRepo } from '../store/settings-repo.js';
import type { TemplateRow } from '../store/templates-repo.js';
import { templatesRepo } from '../store/templates-repo.js';
import { withTransaction } from '../store/transactions.js';
import { parseLimitTier, phoneLimitKey } from './messaging-limit.js';

export const SYNC_STATUS_KEY = 'templates.sync';
/** 100 templates a page: Meta allows far fewer templates per account than 200 pages hold. */
export const PAGE_LIMIT = 100;
export const MAX_PAGES = 200;
/** A page larger than this is not a template list. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;

export const syncStatusSchema = z
  .object({
    state: z.enum(['ok', 'failed', 'never', 'not_configured']),
    reason: z.string().nullable().describe('why the last sync failed, or why none runs'),
    last_attempt_at: z.string().nullable(),
    last_success_at: z.string().nullable(),
    templates: z.number().nullable().describe('templates listed by the last successful sync'),
  })
  .describe('the template sync: a failed sync keeps the last good cache');

export type SyncStatus = z.infer<typeof syncStatusSchema>;

const templateItem = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String).optional(),
  name: z.string().min(1).max(512),
  language: z.string().min(1).max(15),
  status: z.string().min(1).max(40),
  category: z.string().max(40).nullish(),
  quality_score: z.looseObject({ score: z.string().max(20).optional() }).nullish(),
  rejected_reason: z.string().max(200).nullish(),
  components: z
    .array(z.looseObject({ type: z.string().max(40) }))
    .max(20)
    .nullish(),
});

/** Components larger than this are not kept (a template body is at most 1,024 characters). */
const MAX_COMPONENTS_BYTES = 16 * 1024;

function componentsJson(components: unknown[] | null | undefined): string | null {
  if (!components) return null;
  const text = JSON.stringify(components);
  return text.length > MAX_COMPONENTS_BYTES ? null : text;
}

const templatePage = z.looseObject({
  data: z.array(z.unknown()).max(1000),
  paging: z
    .looseObject({
      next: z.string().max(4096).optional(),
      cursors: z.looseObject({ after: z.string().max(1024).optional() }).optional(),
    })
    .optional(),
});

export interface SyncReport {
  ok: boolean;
  templates: number;
  removed: number;
  reason: string | null;
}

export interface TemplateSyncDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: () => Config;
  /** True while the database must not be written. */
  paused?: () => boolean;
}

export interface TemplateSync {
  name: string;
  start(): Promise<void>;
  stop(deadline: number): Promise<void>;
  /** Sync now (after the running one, if any). */
  sync(): Promise<SyncReport>;
  status(): Promise<SyncStatus>;
}

class SyncError extends Error {}

export function createTemplateSync(deps: TemplateSyncDeps): TemplateSync {
  const log = deps.logger.child({ module: 'template-sync' });
  let timer: NodeJS.Timeout | undefined;
  let every = 0;
  let running: Promise<SyncReport> | undefined;

  const configured = (c: Config) => Boolean(c.channels.access_token && c.channels.waba_id);

  async function fetchJson(url: string, config: Config): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${config.channels.access_token}` },
        signal: AbortSignal.timeout(config.channels.request_timeout),
        redirect: 'error',
      });
    } catch (err) {
      throw new SyncError(`the Graph API could not be reached (${(err as Error).name})`);
    }
    const text = await readBounded(res);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SyncError(`the Graph API answered HTTP ${res.status} with something that is not JSON`);
    }
    if (!res.ok) {
      const e = (body as { error?: { code?: unknown; message?: unknown } })?.error;
      const what = typeof e?.message === 'string' ? `: ${e.message.slice(0, 200)}` : '';
      throw new SyncError(
        `the Graph API answered HTTP ${res.status} (code ${String(e?.code ?? 'none')})${what}`,
      );
    }
    return body;
  }

  async function listTemplates(config: Config, now: number): Promise<TemplateRow[]> {
    const base = new URL(config.channels.api_base_url);
    const fields = 'id,name,language,status,category,quality_score,rejected_reason,components';
    let url: string | undefined =
      `${config.channels.api_base_url.replace(/\/$/, '')}/${config.channels.api_version}/${config.channels.waba_id}` +
      `/message_templates?fields=${fields}&limit=${PAGE_LIMIT}`;
    const out: TemplateRow[] = [];
    for (let page = 1; url; page++) {
      if (page > MAX_PAGES) throw new SyncError(`the template list has more than ${MAX_PAGES} pages`);
      const parsed = templatePage.safeParse(await fetchJson(url, config));
      if (!parsed.success) throw new SyncError(`page ${page} is not a template list (no "data" array)`);
      for (const [i, raw] of parsed.data.data.entries()) {
        const t = templateItem.safeParse(raw);
        if (!t.success) {
          const issue = t.error.issues[0];
          throw new SyncError(
            `page ${page}, template ${i}: ${issue?.path.join('.') || '(item)'} ${issue?.message}`,
          );
        }
        out.push({
          name: t.data.name,
          language: t.data.language,
          status: t.data.status.toUpperCase(),
          category: t.data.category ?? null,
          template_id: t.data.id ?? null,
          reason: t.data.rejected_reason ?? null,
          quality: t.data.quality_score?.score?.toUpperCase() ?? null,
          components: componentsJson(t.data.components),
          updated_at: now,
        });
      }
      const next = parsed.data.paging?.next;
      if (!next) break;
      // The bearer token goes only where it was configured to go.
      let nextUrl: URL;
      try {
        nextUrl = new URL(next);
      } catch {
        throw new SyncError(`page ${page}: paging.next is not a URL`);
      }
      if (nextUrl.origin !== base.origin) {
        throw new SyncError(`page ${page}: paging.next points to another host (${nextUrl.host})`);
      }
      url = nextUrl.toString();
    }
    return out;
  }

  /** The configured channel's and every agent's number (campaigns send from an agent's number). */
  async function readPhoneLimits(config: Config, now: number): Promise<void> {
    if (!config.channels.access_token) return;
    if ((config.channels.messaging_limit ?? config.campaigns.messaging_limit) !== null) return;
    const numbers = new Set([config.channels.phone_number_id, ...(await agentsRepo.phoneNumberIds(deps.db))]);
    numbers.delete('sandbox');
    for (const pnid of numbers) await readPhoneLimit(config, pnid, now);
  }

  async function readPhoneLimit(config: Config, pnid: string, now: number): Promise<void> {
    try {
      const body = (await fetchJson(
        `${config.channels.api_base_url.replace(/\/$/, '')}/${config.channels.api_version}/${pnid}` +
          '?fields=whatsapp_business_manager_messaging_limit,messaging_limit_tier',
        config,
      )) as Record<string, unknown>;
      const raw = body.whatsapp_business_manager_messaging_limit ?? body.messaging_limit_tier;
      const value = parseLimitTier(
        raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).current_limit : raw,
      );
      if (value === null) return;
      if (deps.paused?.()) return;
      await settingsRepo.put(deps.db, phoneLimitKey(pnid), String(value), now);
    } catch (err) {
      log.warn(
        { event: 'messaging_limit.read_failed', phone_number_id: pnid, reason: (err as Error).message },
        'could not read the messaging limit from the phone number',
      );
    }
  }

  async function syncOnce(): Promise<SyncReport> {
    const config = deps.config();
    const now = deps.clock.now();
    try {
      return await syncTemplates(config, now);
    } finally {
      await readPhoneLimits(config, now);
    }
  }

  async function syncTemplates(config: Config, now: number): Promise<SyncReport> {
    if (!configured(config)) {
      return {
        ok: false,
        templates: 0,
        removed: 0,
        reason: 'needs channels.access_token and channels.waba_id',
      };
    }
    const previous = await readStatus(deps.db);
    try {
      const rows = await listTemplates(config, now);
      const removed = await withTransaction(deps.db, async (trx) => {
        const n = await templatesRepo.replaceAll(trx, rows);
        await writeStatus(
          trx,
          {
            state: 'ok',
            reason: null,
            last_attempt_at: iso(now),
            last_success_at: iso(now),
            templates: rows.length,
          },
          now,
        );
        return n;
      });
      log.info(
        { event: 'templates.synced', templates: rows.length, removed },
        `template cache synced: ${rows.length} template(s)`,
      );
      return { ok: true, templates: rows.length, removed, reason: null };
    } catch (err) {
      if (!(err instanceof SyncError)) throw err;
      await writeStatus(
        deps.db,
        {
          state: 'failed',
          reason: err.message,
          last_attempt_at: iso(now),
          last_success_at: previous?.last_success_at ?? null,
          templates: previous?.templates ?? null,
        },
        now,
      );
      log.warn(
        { event: 'templates.sync_failed', reason: err.message },
        `template sync failed, the cache keeps its last good state: ${err.message}`,
      );
      return { ok: false, templates: 0, removed: 0, reason: err.message };
    }
  }

  function sync(): Promise<SyncReport> {
    const previous = running ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => syncOnce());
    running = next;
    return next.finally(() => {
      if (running === next) running = undefined;
    });
  }

  function schedule(config: Config): void {
    if (timer && every === config.scheduler.template_sync_every) return;
    if (timer) clearInterval(timer);
    every = config.scheduler.template_sync_every;
    timer = setInterval(() => {
      if (deps.paused?.()) return;
      sync().catch((err) => log.error({ event: 'templates.sync_error', err }, 'template sync threw'));
    }, every);
    timer.unref();
  }

  return {
    name: 'template-sync',
    sync,
    async status() {
      const config = deps.config();
      const stored = await readStatus(deps.db);
      if (!configured(config)) {
        return {
          state: 'not_configured',
          reason:
            'the template cache is fed by webhooks only: set channels.access_token and channels.waba_id to sync it',
          last_attempt_at: stored?.last_attempt_at ?? null,
          last_success_at: stored?.last_success_at ?? null,
          templates: stored?.templates ?? null,
        };
      }
      return (
        stored ?? {
          state: 'never',
          reason: null,
          last_attempt_at: null,
          last_success_at: null,
          templates: null,
        }
      );
    },
    async start() {
      const config = deps.config();
      schedule(config);
      // In the background: starting never waits on Meta.
      sync().catch((err) => log.error({ event: 'templates.sync_error', err }, 'template sync threw'));
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      while (running) await running.catch(() => undefined);
    },
  };
}

const iso = toIso;

async function readStatus(db: Db): Promise<SyncStatus | undefined> {
  const raw = await settingsRepo.get(db, SYNC_STATUS_KEY);
  if (!raw) return undefined;
  const parsed = syncStatusSchema.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : undefined;
}

async function writeStatus(db: Db, status: SyncStatus, now: number): Promise<void> {
  await settingsRepo.put(db, SYNC_STATUS_KEY, JSON.stringify(status), now);
}

/** The body as text, refused past MAX_PAGE_BYTES (a page is never that large). */
async function readBounded(res: Response): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_PAGE_BYTES) {
    await res.body?.cancel();
    throw new SyncError(`the Graph API answered ${declared} bytes, more than a template page can be`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_PAGE_BYTES) {
      await reader.cancel();
      throw new SyncError(`the Graph API answered more than ${MAX_PAGE_BYTES} bytes for one page`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
