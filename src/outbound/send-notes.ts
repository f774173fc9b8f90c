// What the running sender notes about each answer besides the record: metrics by outcome and code,
// the log line, and channel health (SPEC §8 status): an auth error stops the channel until the
// credentials change; FAILING_AFTER retryable failures in a row make the runtime degraded until a send
// on that channel is accepted.
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { RuntimeHealth } from '../runtime/health.js';
import type { OutboxRow } from '../store/outbox-repo.js';
import type { RecordedAnswer } from './send-result.js';
import type { SendFailed } from './transports/transport.js';

/**
 * Retryable failures in a row on one channel (network errors, 5xx, rate limits) after which the
 * runtime reports it `degraded` (SPEC §8: "a transport is failing on ... repeated errors"); the next
 * accepted send clears it.
 */
export const FAILING_AFTER = 3;

export interface SendNotesDeps {
  log: Logger;
  metrics: Metrics;
  health: RuntimeHealth;
  pauseChannel: (phoneNumberId: string) => void;
}

export function createSendNotes(deps: SendNotesDeps) {
  const { log } = deps;
  const results = deps.metrics.counter(
    'nwa_outbound_results_total',
    'Outbound send results, by outcome (sent, retry, dead, failed, auth) and Cloud API error code',
    ['outcome', 'code'],
  );
  const followUpsSent = deps.metrics.counter('nwa_follow_ups_sent_total', 'Follow-ups accepted by the API');
  const failuresInARow = new Map<string, number>();

  function accepted(pnid: string, answer: RecordedAnswer): void {
    failuresInARow.delete(pnid);
    const problem = deps.health.view().channels.find((c) => c.phone_number_id === pnid);
    if (problem?.kind === 'failing') deps.health.channelOk(pnid);
    results.inc({ outcome: 'sent', code: 'none' });
    if (answer.outcome === 'sent' && answer.follow_up) followUpsSent.inc();
  }

  /** Metrics, logs and channel health for a failed send. */
  function failed(
    row: OutboxRow,
    failure: SendFailed,
    answer: RecordedAnswer,
    attempts: number,
    now: number,
    pnid: string,
  ): void {
    const code = codeLabel(failure.code);
    const ids = {
      outbox_id: row.id,
      conversation_id: row.conversation_id,
      code: failure.code,
      kind: failure.kind,
    };
    switch (answer.outcome) {
      case 'auth':
        deps.health.channelProblem({
          phone_number_id: pnid,
          kind: 'auth',
          code: failure.code,
          title: failure.title,
          since: now,
        });
        deps.pauseChannel(pnid);
        results.inc({ outcome: 'auth', code });
        log.error(
          { event: 'outbound.channel_stopped', phone_number_id: pnid, ...ids },
          `sending on ${pnid} stopped: ${failure.title}; messages stay queued until the credentials are updated`,
        );
        return;
      case 'retry':
        retryable(pnid, failure, now);
        results.inc({ outcome: 'retry', code });
        log.warn(
          { event: 'outbound.retry', ...ids, attempts, retry_at: answer.retry_at },
          `send failed (${failure.title}); retrying`,
        );
        return;
      case 'dead':
        retryable(pnid, failure, now);
        results.inc({ outcome: 'dead', code });
        log.error({ event: 'outbound.dead', ...ids, attempts }, `send gave up after ${attempts} attempts`);
        return;
      case 'failed':
        results.inc({ outcome: 'failed', code });
        log.warn({ event: 'outbound.failed', ...ids }, `send failed permanently: ${failure.title}`);
        if (answer.replanned) {
          log.info(
            { event: 'outbound.follow_up_replanned', ...answer.replanned },
            'follow-up re-planned as a template (the customer service window had closed)',
          );
        }
        return;
      case 'sent':
        return;
    }
  }

  function retryable(pnid: string, failure: SendFailed, now: number): void {
    const n = (failuresInARow.get(pnid) ?? 0) + 1;
    failuresInARow.set(pnid, n);
    if (n < FAILING_AFTER || deps.health.stoppedChannels().includes(pnid)) return;
    const known = deps.health.view().channels.some((c) => c.phone_number_id === pnid);
    deps.health.channelProblem({
      phone_number_id: pnid,
      kind: 'failing',
      code: failure.code,
      title: failure.title,
      since: now,
    });
    if (!known) {
      log.warn(
        { event: 'outbound.channel_failing', phone_number_id: pnid, code: failure.code, failures: n },
        `sends on ${pnid} keep failing (${failure.title}); the runtime is degraded until one is accepted`,
      );
    }
  }

  return { accepted, failed };
}

function codeLabel(code: number | null | undefined): string {
  return code === null || code === undefined ? 'none' : String(code);
}
