// GET /dashboard/live: a session-authenticated event stream that only tells the open page that
// something changed (the event type, no data), from the same live streams as GET .../runtime/events;
// the page then refetches its region. A page that falls far behind gets one "changed" instead.
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppDeps } from '../app-deps.js';
import type { EventRow } from '../store/events-repo.js';
import type { DashboardEnv } from './env.js';

const LIVE_TYPES = [
  'message.received',
  'message.sent',
  'message.status',
  'conversation.opened',
  'conversation.state_changed',
  'conversation.routed',
  'draft.created',
  'draft.resolved',
];
const MAX_PENDING = 100;

export function mountDashboardLive(d: Hono<DashboardEnv>, deps: AppDeps): void {
  d.get('/live', async (c) => {
    const streams = deps.events.streams;
    const resume = await streams.resumePoint(undefined);
    const pending: string[] = [];
    let open = true;
    let wake: (() => void) | undefined;
    const sink = {
      filter: { types: LIVE_TYPES },
      push(rows: EventRow[]) {
        if (!open) return false;
        if (pending.length + rows.length > MAX_PENDING) pending.splice(0, pending.length, 'changed');
        else pending.push(...rows.map((r) => r.type));
        wake?.();
        return true;
      },
    };
    const detach = streams.attach(sink, resume.seq);
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      const heartbeat = setInterval(() => {
        void stream.write(': heartbeat\n\n');
      }, deps.config().events.heartbeat);
      heartbeat.unref();
      try {
        await stream.write(': ok\n\n');
        while (open && !stream.aborted && !stream.closed) {
          const type = pending.shift();
          if (type) {
            await stream.writeSSE({ event: type, data: '{}' });
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        clearInterval(heartbeat);
        detach();
      }
    });
  });
}
