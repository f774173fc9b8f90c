// Webhook subscriptions (SPEC §11, root): create (the signing secret shown once), list and get with
// delivery health, update, delete, rotate the secret (the old one signs too for 24 h more), a test
// ping, the attempts log and replay. Every change is audited in its own transaction. A URL that is not
// http(s), carries credentials or cannot be reached at creation is refused; a ping answered with an
// error status is reported, not fatal.
// Over 300 lines on purpose: the subscription service's commands, each short, each audited; one resource, one file.
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import type { AuditActor } from '../lib/audit-actor.js';
import { type Clock, toIso } from '../lib/clock.js';
import type { IdSource, RandomSource } from '../lib/ids.js';
import { auditRepo } from '../store/audit-repo.js';
import type { Db } from '../store/db.js';
import { eventsRepo } from '../store/events-repo.js';
import {
  type AttemptRow,
  type DeliveryCounts,
  type DeliveryRow,
  type SubscriptionRow,
  subscriptionsRepo,
} from '../store/subscriptions-repo.js';
import { withTransaction } from '../store/transactions.js';
import { settledLastSeq } from './commit-horizon.js';
import { type PostOutcome, postWebhook } from './post-webhook.js';
import { newSecret, signatureHeaders } from './signing.js';

export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;
/** Subscriptions per installation: each is polled and fanned out to on every pass. */
export const MAX_SUBSCRIPTIONS = 50;
/** Events one replay request may queue. */
export const MAX_REPLAY = 10_000;

export interface SubscriptionDeps {
  db: Db;
  clock: Clock;
  /** Real time for `webhook-timestamp`: subscribers check it against their own clock. */
  wallClock: Clock;
  ids: IdSource;
  random: RandomSource;
  config: () => Config;
}

export interface SubscriptionView {
  id: string;
  url: string;
  types: string[];
  agent_uuid: string | null;
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  health: {
    status: 'healthy' | 'failing' | 'disabled' | 'new';
    pending: number;
    delivered: number;
    dead: number;
    failing_since: string | null;
    last_success_at: string | null;
    last_failure_at: string | null;
    last_error: string | null;
  };
}

export interface PingReport {
  ok: boolean;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

const iso = (t: number | null) => (t === null ? null : toIso(t));

export function toSubscriptionView(row: SubscriptionRow, counts?: DeliveryCounts): SubscriptionView {
  const c = counts ?? { pending: 0, delivered: 0, dead: 0 };
  const status = !row.enabled
    ? 'disabled'
    : row.failing_since !== null
      ? 'failing'
      : row.last_success_at !== null
        ? 'healthy'
        : 'new';
  return {
    id: row.id,
    url: row.url,
    types: JSON.parse(row.types) as string[],
    agent_uuid: row.agent_uuid,
    description: row.description,
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    health: {
      status,
      ...c,
      failing_since: iso(row.failing_since),
      last_success_at: iso(row.last_success_at),
      last_failure_at: iso(row.last_failure_at),
      last_error: row.last_error,
    },
  };
}

/** http(s), no credentials; the message never repeats the URL (it may hold a secret). */
export function checkSubscriptionUrl(raw: string): string {
  const bad = (message: string) =>
    new AppError('validation_failed', `invalid body: url ${message}`, [{ path: 'url', message }]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('must be http or https');
  if (url.username !== '' || url.password !== '') throw bad('must not carry credentials');
  return url.toString();
}

function notFound(id: string): AppError {
  return new AppError('not_found', `no webhook subscription with id ${JSON.stringify(id.slice(0, 100))}`);
}

async function load(db: Db, id: string): Promise<SubscriptionRow> {
  const row = await subscriptionsRepo.get(db, id);
  if (!row) throw notFound(id);
  return row;
}

/** The one audit entry of a webhook-config action (the router adds none for a success, SPEC §9a). */
function audit(
  trx: Db,
  deps: SubscriptionDeps,
  actor: AuditActor,
  action: string,
  details: Record<string, unknown>,
) {
  return auditRepo.record(trx, {
    id: deps.ids.next(),
    actor: actor.token_id,
    action: `webhooks.${action}`,
    details: JSON.stringify({ ...details, request_id: actor.request_id }),
    at: deps.clock.now(),
  });
}

/** The secrets that sign now: the current one, and the previous one inside its overlap. */
export function signingSecrets(row: SubscriptionRow, now: number): string[] {
  const out = [row.secret];
  if (row.previous_secret && (row.previous_secret_until ?? 0) > now) out.push(row.previous_secret);
  return out;
}

/** A `ping` event to the subscription, signed as any delivery; the attempt for its log. */
async function ping(
  deps: SubscriptionDeps,
  row: SubscriptionRow,
): Promise<{ out: PostOutcome; attempt: AttemptRow }> {
  const id = `evt_${deps.ids.next()}`;
  const now = deps.clock.now();
  const body = JSON.stringify({
    id,
    type: 'ping',
    occurred_at: toIso(now),
    agent_uuid: null,
    conversation_id: null,
    data: { subscription_id: row.id },
  });
  const ts = Math.floor(deps.wallClock.now() / 1000);
  const headers = signatureHeaders(signingSecrets(row, now), id, ts, body);
  const out = await postWebhook(row.url, headers, body, deps.config().events.delivery.timeout);
  const attempt: AttemptRow = {
    id: deps.ids.next(),
    subscription_id: row.id,
    delivery_id: null,
    event_id: id,
    event_type: 'ping',
    at: deps.clock.now(),
    status_code: out.status,
    latency_ms: out.latency_ms,
    error: out.error,
  };
  return { out, attempt };
}

const report = (o: PostOutcome): PingReport => ({
  ok: o.ok,
  status_code: o.status,
  latency_ms: o.latency_ms,
  error: o.error,
});

export interface CreateInput {
  url: string;
  types: string[];
  agent_uuid?: string | undefined;
  description?: string | undefined;
}

export async function createSubscription(
  deps: SubscriptionDeps,
  input: CreateInput,
  actor: AuditActor,
): Promise<{ subscription: SubscriptionView; secret: string; test: PingReport }> {
  const url = checkSubscriptionUrl(input.url);
  if ((await subscriptionsRepo.count(deps.db)) >= MAX_SUBSCRIPTIONS) {
    throw new AppError('conflict', `at most ${MAX_SUBSCRIPTIONS} webhook subscriptions; delete one first`);
  }
  const now = deps.clock.now();
  const row: SubscriptionRow = {
    id: `whsub_${deps.ids.next()}`,
    url,
    types: JSON.stringify(normaliseTypes(input.types)),
    agent_uuid: input.agent_uuid ?? null,
    description: input.description ?? null,
    secret: newSecret(deps.random),
    previous_secret: null,
    previous_secret_until: null,
    enabled: 1,
    disabled_reason: null,
    cursor_seq: 0,
    failing_since: null,
    last_success_at: null,
    last_failure_at: null,
    last_error: null,
    created_at: now,
    updated_at: now,
  };
  // Reachable first: nothing is stored for a URL that does not answer at all.
  const pinged = await ping(deps, row);
  const test = pinged.out;
  if (test.status === null) {
    throw new AppError(
      'validation_failed',
      `invalid body: url could not be reached (${test.error ?? 'no answer'})`,
      [{ path: 'url', message: `could not be reached: ${test.error ?? 'no answer'}` }],
    );
  }
  // Only events recorded from now on: the subscription starts at the log's end, past which nothing
  // can still commit (on PostgreSQL an open transaction may hold a smaller seq: commit-horizon.ts).
  row.cursor_seq = await settledLastSeq(deps.db);
  await withTransaction(deps.db, async (trx) => {
    await subscriptionsRepo.insert(trx, row);
    await subscriptionsRepo.recordAttempt(trx, pinged.attempt);
    await audit(trx, deps, actor, 'create', { id: row.id, types: JSON.parse(row.types), outcome: 'created' });
  });
  return { subscription: toSubscriptionView(row), secret: row.secret, test: report(test) };
}

function normaliseTypes(types: string[]): string[] {
  return types.includes('*') ? ['*'] : [...new Set(types)];
}

export async function listSubscriptions(deps: Pick<SubscriptionDeps, 'db'>): Promise<SubscriptionView[]> {
  const counts = await subscriptionsRepo.deliveryCounts(deps.db);
  return (await subscriptionsRepo.list(deps.db)).map((r) => toSubscriptionView(r, counts.get(r.id)));
}

export async function getSubscription(
  deps: Pick<SubscriptionDeps, 'db'>,
  id: string,
): Promise<SubscriptionView> {
  const row = await load(deps.db, id);
  const counts = await subscriptionsRepo.deliveryCounts(deps.db);
  return toSubscriptionView(row, counts.get(id));
}

export async function updateSubscription(
  deps: SubscriptionDeps,
  id: string,
  patch: {
    url?: string | undefined;
    types?: string[] | undefined;
    enabled?: boolean | undefined;
    description?: string | null | undefined;
  },
  actor: AuditActor,
): Promise<SubscriptionView> {
  const url = patch.url === undefined ? undefined : checkSubscriptionUrl(patch.url);
  await withTransaction(deps.db, async (trx) => {
    const row = await load(trx, id);
    const now = deps.clock.now();
    const enabling = patch.enabled === true && row.enabled === 0;
    await subscriptionsRepo.update(trx, id, {
      ...(url !== undefined ? { url } : {}),
      ...(patch.types !== undefined ? { types: JSON.stringify(normaliseTypes(patch.types)) } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
      ...(patch.enabled === false ? { disabled_reason: `disabled by ${actor}` } : {}),
      // Enabled again: a fresh start for the failure clock (what was missed meanwhile is replayable).
      ...(enabling ? { disabled_reason: null, failing_since: null } : {}),
      updated_at: now,
    });
    await audit(trx, deps, actor, 'update', { id, changed: Object.keys(patch), outcome: 'updated' });
  });
  return getSubscription(deps, id);
}

export async function deleteSubscription(
  deps: SubscriptionDeps,
  id: string,
  actor: AuditActor,
): Promise<void> {
  await withTransaction(deps.db, async (trx) => {
    if (!(await subscriptionsRepo.remove(trx, id))) throw notFound(id);
    await audit(trx, deps, actor, 'delete', { id, outcome: 'deleted' });
  });
}

export async function rotateSecret(
  deps: SubscriptionDeps,
  id: string,
  actor: AuditActor,
): Promise<{ secret: string; previous_secret_valid_until: string }> {
  const secret = newSecret(deps.random);
  const now = deps.clock.now();
  const until = now + ROTATION_OVERLAP_MS;
  await withTransaction(deps.db, async (trx) => {
    const row = await load(trx, id);
    await subscriptionsRepo.update(trx, id, {
      secret,
      previous_secret: row.secret,
      previous_secret_until: until,
      updated_at: now,
    });
    await audit(trx, deps, actor, 'rotate_secret', { id, outcome: 'rotated' });
  });
  return { secret, previous_secret_valid_until: toIso(until) };
}

export async function testSubscription(
  deps: SubscriptionDeps,
  id: string,
  actor: AuditActor,
): Promise<PingReport> {
  const row = await load(deps.db, id);
  const pinged = await ping(deps, row);
  const out = report(pinged.out);
  await withTransaction(deps.db, async (trx) => {
    // Deleted meanwhile: nothing to log it under.
    if (!(await subscriptionsRepo.get(trx, id))) return;
    await subscriptionsRepo.recordAttempt(trx, pinged.attempt);
    await audit(trx, deps, actor, 'test', {
      id,
      outcome: out.ok ? 'acknowledged' : 'failed',
      status: out.status_code,
    });
  });
  return out;
}

export interface AttemptView {
  id: string;
  event_id: string;
  event_type: string;
  at: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export function toAttemptView(a: AttemptRow): AttemptView {
  return {
    id: a.id,
    event_id: a.event_id,
    event_type: a.event_type,
    at: toIso(a.at),
    status_code: a.status_code,
    latency_ms: a.latency_ms,
    error: a.error,
  };
}

export async function listAttempts(
  deps: Pick<SubscriptionDeps, 'db'>,
  id: string,
  limit: number,
  before?: { at: number; id: string },
): Promise<AttemptRow[]> {
  await load(deps.db, id);
  return subscriptionsRepo.attempts(deps.db, id, limit, before);
}

/** Replay (SPEC §11): events since a time, or by id, go out again (in sequence order per conversation). */
export async function replay(
  deps: SubscriptionDeps,
  id: string,
  input: { since?: number | undefined; event_ids?: string[] | undefined },
  actor: AuditActor,
): Promise<{ queued: number }> {
  return withTransaction(deps.db, async (trx) => {
    const row = await load(trx, id);
    const filter = subscriptionFilter(row);
    let events: Awaited<ReturnType<typeof eventsRepo.after>>;
    if (input.event_ids) {
      events = (await eventsRepo.byIds(trx, input.event_ids)).filter((e) => e.seq <= row.cursor_seq);
    } else {
      const first = await eventsRepo.firstSeqSince(trx, input.since ?? 0);
      events =
        first === null
          ? []
          : (await eventsRepo.after(trx, first - 1, MAX_REPLAY, filter)).filter(
              (e) => e.seq <= row.cursor_seq,
            );
    }
    const now = deps.clock.now();
    const rows: DeliveryRow[] = events
      .filter((e) => matches(filter, e))
      .map((e) => newDelivery(deps.ids, row.id, e, now));
    await subscriptionsRepo.requeue(trx, rows);
    await audit(trx, deps, actor, 'replay', { id, queued: rows.length, outcome: 'queued' });
    return { queued: rows.length };
  });
}

export interface SubscriptionFilter {
  types?: readonly string[];
  agent_uuid?: string;
}

export function subscriptionFilter(row: Pick<SubscriptionRow, 'types' | 'agent_uuid'>): SubscriptionFilter {
  const types = JSON.parse(row.types) as string[];
  return {
    ...(types.includes('*') ? {} : { types }),
    ...(row.agent_uuid !== null ? { agent_uuid: row.agent_uuid } : {}),
  };
}

export function matches(f: SubscriptionFilter, e: { type: string; agent_uuid: string | null }): boolean {
  if (f.types && !f.types.includes(e.type)) return false;
  if (f.agent_uuid !== undefined && e.agent_uuid !== f.agent_uuid) return false;
  return true;
}

export function newDelivery(
  ids: IdSource,
  subscriptionId: string,
  e: { seq: number; id: string; conversation_id: string | null },
  now: number,
): DeliveryRow {
  return {
    id: ids.next(),
    subscription_id: subscriptionId,
    event_seq: e.seq,
    event_id: e.id,
    order_key: e.conversation_id ?? '',
    state: 'pending',
    attempts: 0,
    next_attempt_at: now,
    lease_owner: null,
    lease_until: null,
    last_status: null,
    last_error: null,
    created_at: now,
    updated_at: now,
    delivered_at: null,
  };
}
