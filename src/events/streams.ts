// The live stream (SPEC §11, GET .../runtime/events): open SSE streams share one reader of the event
// log. Each stream has a cursor (the last sequence it was sent); a stream resuming from Last-Event-ID
// reads its own pages until it has caught up, then takes the shared reader's new events. At most
// `events.max_streams` are open; a stream whose client stops reading is closed once a bounded number
// of events waits for it (the client resumes with Last-Event-ID), so memory stays bounded.
// The shared position never passes the commit horizon (commit-horizon.ts): on PostgreSQL an event
// whose transaction is still open may hold a smaller seq than one already visible. What was read is
// made durable before it is pushed (store/transactions.ts makeDurable): events are recorded by
// redoable commits, and a client must not see one that a power loss would take back.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import type { Service } from '../lib/service.js';
import { createWakeLoop } from '../lib/wake-loop.js';
import type { Db } from '../store/db.js';
import { type EventRow, eventsRepo } from '../store/events-repo.js';
import { makeDurable } from '../store/transactions.js';
import { createCommitHorizon, settledLastSeq } from './commit-horizon.js';
import { onEventAppended } from './record-event.js';

export interface StreamFilter {
  types?: readonly string[];
  agent_uuid?: string;
}

export interface StreamSink {
  filter: StreamFilter;
  /** Events in sequence order; false when the sink is closed or full (it is then dropped). */
  push(rows: EventRow[]): boolean;
}

export interface EventStreams extends Service {
  /** The sequence to resume after: the Last-Event-ID's, or the log's end when none is given. */
  resumePoint(lastEventId: string | undefined): Promise<{ seq: number; expired: boolean }>;
  /** Adds a stream starting after `seq`; throws 503 past the bound. Returns its detach function. */
  attach(sink: StreamSink, seq: number): () => void;
  open(): number;
}

const PAGE = 200;
/** How soon to look again while events wait behind the commit horizon (transactions take ms). */
const RECHECK_MS = 5;

export function createEventStreams(deps: {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: () => Config;
  pollMs?: number;
}): EventStreams {
  const log = deps.logger.child({ module: 'events' });
  const sinks = new Map<StreamSink, { cursor: number }>();
  let hubSeq: number | null = null;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  const horizon = createCommitHorizon(deps.db);
  // Events were visible beyond the horizon: look again soon, not at the next poll.
  let recheck: NodeJS.Timeout | undefined;

  const loop = createWakeLoop(tick, {
    stopped: () => stopped || sinks.size === 0,
    onError: (err) =>
      log.error({ event: 'events.stream_failed', err }, 'reading events for the live streams failed'),
  });

  function matches(f: StreamFilter, e: EventRow): boolean {
    return (
      (!f.types || f.types.includes(e.type)) && (f.agent_uuid === undefined || e.agent_uuid === f.agent_uuid)
    );
  }

  function send(sink: StreamSink, rows: EventRow[]): void {
    if (rows.length > 0 && !sink.push(rows)) sinks.delete(sink);
  }

  /** Called between reading events and sending them (nothing written unless it must be). */
  const durable = () => makeDurable(deps.db, deps.clock.now());

  async function tick(): Promise<void> {
    if (hubSeq === null) hubSeq = await settledLastSeq(deps.db);
    const hub = hubSeq;
    // Resuming streams read their own pages up to the shared position.
    for (const [sink, state] of sinks) {
      while (state.cursor < hub && sinks.has(sink)) {
        const rows = (await eventsRepo.after(deps.db, state.cursor, PAGE, sink.filter)).filter(
          (r) => r.seq <= hub,
        );
        if (rows.length > 0) await durable();
        send(sink, rows);
        state.cursor = rows.length < PAGE ? hub : (rows[rows.length - 1] as EventRow).seq;
      }
    }
    const read = await eventsRepo.after(deps.db, hub, 500);
    if (read.length === 0) return;
    let fresh = read;
    if ((read[read.length - 1] as EventRow).seq > horizon.known()) {
      const safe = await horizon.safe();
      // Read again up to the horizon: an event below it may have committed after the first read.
      fresh = safe > hub ? await eventsRepo.after(deps.db, hub, 500, {}, safe) : [];
      if ((read[read.length - 1] as EventRow).seq > safe && !recheck) {
        recheck = setTimeout(() => {
          recheck = undefined;
          wake();
        }, RECHECK_MS);
        recheck.unref();
      }
      if (fresh.length === 0) return;
    }
    const next = (fresh[fresh.length - 1] as EventRow).seq;
    await durable();
    for (const [sink, state] of sinks) {
      if (state.cursor < hub) continue;
      const from = state.cursor;
      send(
        sink,
        fresh.filter((e) => e.seq > from && matches(sink.filter, e)),
      );
      state.cursor = Math.max(from, next);
    }
    hubSeq = next;
    if (read.length === 500) loop.wake();
  }

  const wake = () => loop.wake();

  return {
    name: 'event-streams',
    open: () => sinks.size,
    async resumePoint(lastEventId) {
      if (lastEventId === undefined || lastEventId === '')
        return { seq: await settledLastSeq(deps.db), expired: false };
      const found = await eventsRepo.byId(deps.db, lastEventId);
      if (found) return { seq: found.seq, expired: false };
      const oldest = await eventsRepo.oldest(deps.db);
      // An id older than everything retained: its successors expired; start from what is kept.
      if (/^evt_[0-9A-HJKMNP-TV-Z]{26}$/.test(lastEventId) && (!oldest || lastEventId < oldest.id)) {
        return { seq: oldest ? oldest.seq - 1 : await settledLastSeq(deps.db), expired: true };
      }
      throw new AppError(
        'validation_failed',
        'invalid header: Last-Event-ID names no event this daemon recorded',
        [{ path: 'Last-Event-ID', message: 'is not an event id this daemon recorded' }],
      );
    },
    attach(sink, seq) {
      if (stopped) throw new AppError('not_ready', 'the daemon is stopping');
      const max = deps.config().events.max_streams;
      if (sinks.size >= max) {
        throw new AppError(
          'overloaded',
          `too many open event streams (at most ${max}); try again later`,
          undefined,
          {
            'retry-after': '5',
          },
        );
      }
      sinks.set(sink, { cursor: seq });
      wake();
      return () => {
        sinks.delete(sink);
        // Idle: the shared position is re-read when the next stream opens.
        if (sinks.size === 0) hubSeq = null;
      };
    },
    async start() {
      stopped = false;
      unsubscribe = onEventAppended(wake);
      timer = setInterval(wake, deps.pollMs ?? 250);
      timer.unref();
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      if (timer) clearInterval(timer);
      if (recheck) clearTimeout(recheck);
      await loop.settled();
      sinks.clear();
    },
  };
}
