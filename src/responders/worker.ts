// The responder worker (SPEC §4 auto-reply): takes the responder jobs the engine left, asks the
// responder OUTSIDE any transaction (it may call a chat-completions server), then in one short
// transaction enqueues the reply (route ai) or stores a draft (route hybrid), if the conversation
// still waits for one. The responder's health feeds the runtime status (`degraded` while it fails).
// Jobs are claimed in one statement with this instance as owner and a lease (store/responder-jobs-repo.ts,
// SPEC §10); the lease is renewed before each responder call so that it outlasts the call, and a job's
// outcome is written only while this instance still holds it.
// Over 300 lines on purpose (barely): claim, renew, ask, write back share the worker's loop and state.

import type { Logger } from 'pino';
import { automationBlocker } from '../agents/attachments.js';
import type { Config } from '../config/schema.js';
import { recordEvent } from '../events/record-event.js';
import { replyId } from '../inbox/inbound-fields.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import type { Service } from '../lib/service.js';
import { createWakeLoop } from '../lib/wake-loop.js';
import { type IngressSignal, yieldToIngress } from '../lib/yield-to-ingress.js';
import { enqueueMarkRead } from '../outbound/mark-read.js';
import { enqueueOutbound, recipientOf } from '../outbound/outbox.js';
import type { RuntimeHealth } from '../runtime/health.js';
import { contactsRepo } from '../store/contacts-repo.js';
import { conversationLogRepo, type ResponderJobRow } from '../store/conversation-log-repo.js';
import { type ConversationRow, conversationsRepo } from '../store/conversations-repo.js';
import type { Db } from '../store/db.js';
import { messagesRepo } from '../store/messages-repo.js';
import { outboxRepo } from '../store/outbox-repo.js';
import { responderJobsRepo } from '../store/responder-jobs-repo.js';
import { withTransaction } from '../store/transactions.js';
import type { InboundMessage } from '../webhook/payload.js';
import { createResponder, type ResponderSetup } from './responder.js';

export interface ResponderWorkerDeps {
  db: Db;
  /** This daemon's instance id: the owner of the jobs it claims. */
  owner: string;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  config: () => Config;
  health: RuntimeHealth;
  /** True while the database must not be written (store/writability.ts): no new work is taken. */
  paused?: () => boolean;
  /** Called after a reply was enqueued. */
  onEnqueued?: () => void;
  /** Webhook ingress: jobs wait for it to be quiet (bounded) and take a small share of the loop while it is busy. */
  ingress?: IngressSignal;
  pollMs?: number;
}

export interface ResponderWorker extends Service {
  wake(): void;
  /** Handles every pending job (tests, tools). */
  drain(): Promise<void>;
}

const BATCH = 20;
/** What a lease must cover beyond the responder's own timeout (the reads and the transaction). */
const LEASE_MARGIN_MS = 60_000;
// Replies matter, but a burst of deliveries must not wait behind them: while deliveries keep arriving
// the responder takes at most a tenth of the loop (the inbox processor takes up to 0.3).
const INGRESS_SHARE = { share: 0.1, maxWaitMs: 50 };

export function createResponderWorker(deps: ResponderWorkerDeps): ResponderWorker {
  const log = deps.logger.child({ module: 'responder' });
  let setup: ResponderSetup | undefined;
  let setupFor: Config['responder'] | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function responder(): ResponderSetup {
    const config = deps.config().responder;
    if (!setup || setupFor !== config) {
      setup = createResponder(config, { clock: deps.clock, logger: log });
      setupFor = config;
      deps.health.setResponderHealth(setup.health);
    }
    return setup;
  }

  /** The operator's answer to "why did it not reply?": also in the conversation detail (auto_replies). */
  function skippedLog(job: ResponderJobRow, outcome: string): void {
    log.info(
      { event: 'responder.skipped', conversation_id: job.conversation_id, mode: job.mode, outcome },
      `no ${job.mode === 'reply' ? 'auto-reply' : 'draft'}: ${outcome}`,
    );
  }

  /** Why the conversation no longer wants this job's reply, or null when it still does. */
  async function unwanted(
    db: Db,
    job: ResponderJobRow,
    conv: ConversationRow | undefined,
  ): Promise<string | null> {
    if (!conv) return 'conversation not found';
    if (conv.queue_state !== 'open') return `conversation is ${conv.queue_state}`;
    if (conv.unanswered_count === 0) return 'already answered';
    // The count drops only once a reply is accepted by Meta: a reply queued after this job was made
    // (by an earlier job of the same burst, or by a person) answers it, as a sent reply answers every
    // message before it. Without this a customer writing three lines at once got three replies.
    if (await outboxRepo.replyQueuedAfter(db, conv.id, job.id))
      return 'already answered (a reply is on its way)';
    const route = job.mode === 'reply' ? 'ai' : 'hybrid';
    if (conv.assigned_route !== route) return `conversation is routed ${conv.assigned_route}`;
    const contact = await contactsRepo.get(db, conv.contact_id);
    if (!contact || contact.opted_out_at !== null) return 'contact opted out';
    if (job.mode === 'reply') return automationBlocker(db, conv.agent_id, conv.phone_number_id);
    return null;
  }

  /** Handles a job the conversation still wants (checked again after the network call). */
  async function handle(job: ResponderJobRow, conv: ConversationRow): Promise<void> {
    const cfg = deps.config().responder.openai;
    const recent = await messagesRepo.listForConversation(deps.db, conv.id, cfg.max_context_messages);
    const { responder: r } = responder();
    // The network call: outside any transaction.
    const reply = await r.reply({
      conversation: {
        id: conv.id,
        conversation_class: conv.conversation_class,
        assigned_route: conv.assigned_route,
      },
      recentMessages: recent.map((m) => ({
        direction: m.direction,
        text: m.text,
        at: m.timestamp,
        reply_id: m.direction === 'inbound' ? storedReplyId(m.payload) : null,
      })),
      classification: { class: conv.conversation_class, ...(conv.intent ? { intent: conv.intent } : {}) },
    });
    let enqueued = false;
    await withTransaction(deps.db, async (trx) => {
      const now = deps.clock.now();
      // Lost while waiting for the responder (this instance stalled past its lease and another took
      // the job): its outcome is the other instance's to write.
      if (!(await responderJobsRepo.stillHeld(trx, job.id, deps.owner))) return;
      // Two instances' jobs of one conversation decide one after the other, so the second sees the
      // reply the first queued.
      await responderJobsRepo.lockConversation(trx, job.conversation_id);
      const current = await conversationsRepo.get(trx, job.conversation_id);
      const why = await unwanted(trx, job, current);
      if (why !== null || !current) {
        await responderJobsRepo.finish(trx, job.id, deps.owner, `skipped: ${why}`, now);
        skippedLog(job, `skipped: ${why}`);
        return;
      }
      if (reply.kind === 'none') {
        await responderJobsRepo.finish(trx, job.id, deps.owner, `no reply: ${reply.reason}`, now);
        skippedLog(job, `no reply: ${reply.reason}`);
        return;
      }
      if (job.mode === 'draft') {
        const draftId = deps.ids.next();
        await conversationLogRepo.addDraft(trx, {
          id: draftId,
          conversation_id: current.id,
          text: reply.text,
          source: reply.source,
          state: 'pending',
          created_at: now,
          updated_at: now,
        });
        await recordEvent(
          trx,
          {
            type: 'draft.created',
            conversation_id: current.id,
            data: { draft_id: draftId, text: reply.text, source: reply.source },
          },
          { ids: deps.ids, now },
        );
        await responderJobsRepo.finish(trx, job.id, deps.owner, 'drafted', now);
        return;
      }
      const contact = await contactsRepo.get(trx, current.contact_id);
      const to = contact ? recipientOf(contact) : null;
      if (!to) {
        await responderJobsRepo.finish(trx, job.id, deps.owner, 'skipped: no recipient', now);
        return;
      }
      const lastInbound = [...recent].reverse().find((m) => m.direction === 'inbound');
      await enqueueMarkRead(trx, current, current.priority, { ids: deps.ids, now, config: deps.config() });
      await enqueueOutbound(
        trx,
        {
          kind: 'reply',
          phone_number_id: current.phone_number_id,
          to,
          content: reply.buttons
            ? { type: 'buttons', body: reply.text, buttons: reply.buttons }
            : { type: 'text', text: reply.text },
          conversation_id: current.id,
          contact_id: current.contact_id,
          priority: current.priority,
          ...(lastInbound ? { reply_to: lastInbound.wamid } : {}),
        },
        { ids: deps.ids, now },
      );
      await responderJobsRepo.finish(trx, job.id, deps.owner, `replied (${reply.source})`, now);
      enqueued = true;
    });
    if (enqueued) deps.onEnqueued?.();
  }

  async function runUntilIdle(): Promise<void> {
    while (!stopped) {
      const leaseMs = deps.config().responder.openai.timeout + LEASE_MARGIN_MS;
      const claimedAt = deps.clock.now();
      let leaseUntil = claimedAt + leaseMs;
      const jobs = await withTransaction(deps.db, (trx) =>
        responderJobsRepo.claimDue(trx, deps.owner, claimedAt, leaseUntil, BATCH),
      );
      if (jobs.length === 0) return;
      // Jobs the conversation no longer wants (answered, routed to a human, no active agent) are
      // closed together in one transaction rather than one commit (one fsync) each.
      const skipped: { id: string; job: ResponderJobRow; why: string }[] = [];
      let startedAt = performance.now();
      let next = 0;
      while (next < jobs.length && !stopped) {
        const job = jobs[next++] as ResponderJobRow;
        await yieldToIngress(deps.ingress, startedAt, INGRESS_SHARE);
        startedAt = performance.now();
        // The batch's leases must outlast this job's responder call (its timeout, and half the margin
        // for the reads and the write around it): renewed when less than that is left.
        const now = deps.clock.now();
        if (leaseUntil - now < leaseMs - LEASE_MARGIN_MS / 2) {
          leaseUntil = now + leaseMs;
          const rest = jobs.slice(next - 1).map((j) => j.id);
          await withTransaction(deps.db, (trx) => responderJobsRepo.renew(trx, rest, deps.owner, leaseUntil));
        }
        try {
          const conv = await conversationsRepo.get(deps.db, job.conversation_id);
          const why = await unwanted(deps.db, job, conv);
          if (why !== null || !conv) skipped.push({ id: job.id, job, why: why ?? 'conversation not found' });
          else await handle(job, conv);
        } catch (err) {
          log.error(
            { event: 'responder.job_failed', err, conversation_id: job.conversation_id },
            'responder job failed',
          );
          await withTransaction(deps.db, (trx) =>
            responderJobsRepo.finish(trx, job.id, deps.owner, 'error', deps.clock.now()),
          );
        }
      }
      // Stopping: jobs not started are due again at once, for any instance.
      const unstarted = jobs.slice(next).map((j) => j.id);
      if (unstarted.length > 0) {
        await withTransaction(deps.db, (trx) => responderJobsRepo.release(trx, unstarted, deps.owner));
      }
      if (skipped.length > 0) {
        await withTransaction(deps.db, async (trx) => {
          const now = deps.clock.now();
          for (const { id, why } of skipped)
            await responderJobsRepo.finish(trx, id, deps.owner, `skipped: ${why}`, now);
        });
        for (const { job, why } of skipped) skippedLog(job, `skipped: ${why}`);
      }
    }
  }

  const loop = createWakeLoop(runUntilIdle, {
    stopped: () => stopped || deps.paused?.() === true,
    onError: (err) => log.error({ event: 'responder.run_failed', err }, 'responder worker failed'),
  });
  const wake = () => loop.wake();

  return {
    name: 'responder-worker',
    wake,
    async drain() {
      wake();
      await loop.settled();
    },
    async start() {
      stopped = false;
      // Jobs this instance held before a crash are due again at once; other instances' wait for
      // their leases to run out (SPEC §10).
      await withTransaction(deps.db, (trx) => responderJobsRepo.releaseOwn(trx, deps.owner));
      try {
        responder();
      } catch (err) {
        log.error({ event: 'responder.unusable', err }, 'the configured responder cannot be used');
      }
      timer = setInterval(wake, deps.pollMs ?? 1000);
      timer.unref();
      wake();
    },
    async stop(deadline) {
      stopped = true;
      if (timer) clearInterval(timer);
      const running = loop.current();
      if (!running) return;
      await Promise.race([
        running,
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref()),
      ]);
    },
  };
}

/** The chosen button or list row id of a stored inbound message (its payload is Meta's object). */
function storedReplyId(payload: string): string | null {
  if (!payload.includes('"interactive"') && !payload.includes('"button"')) return null;
  try {
    return replyId(JSON.parse(payload) as Partial<InboundMessage>);
  } catch {
    return null;
  }
}
