// GET .../runtime/events (SPEC §11, standard): the live stream as Server-Sent Events. One message
// per event (`id:` the event id, `event:` its type, `data:` the envelope), filters `types` and
// `agent_uuid`, resume with Last-Event-ID within retention, a heartbeat comment, bounded streams.
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { PUBLIC_EVENT_TYPES } from '../../events/catalog.js';
import { toEnvelope } from '../../events/record-event.js';
import type { EventRow } from '../../store/events-repo.js';
import type { ApiRouter } from '../api-router.js';

export const EVENTS_STREAM_PATH = '/api/extensions/native-whatsapp/runtime/events';

/** Events waiting for one slow client before its stream is closed (it resumes with Last-Event-ID). */
const MAX_BUFFERED = 2000;

const typesParam = z
  .string()
  .max(2000)
  .transform((s) =>
    s
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
  )
  .pipe(
    z
      .array(z.enum(PUBLIC_EVENT_TYPES, { error: `each must be one of: ${PUBLIC_EVENT_TYPES.join(', ')}` }))
      .max(50),
  );

const query = z.strictObject({
  types: typesParam.optional().describe('comma-separated event types (default: all)'),
  agent_uuid: z.string().min(1).max(128).optional(),
  last_event_id: z.string().max(64).optional().describe('same as the Last-Event-ID header'),
});

export function mountEventStreamRoutes(router: ApiRouter, deps: AppDeps): void {
  router.add(
    {
      method: 'get',
      path: EVENTS_STREAM_PATH,
      tier: 'standard',
      tag: 'runtime',
      summary: 'The live event stream (text/event-stream), resumable with Last-Event-ID.',
      description:
        'One SSE message per event: `id:` the event id, `event:` its type, `data:` the envelope (as webhook ' +
        'deliveries carry it; examples at GET .../management/webhooks/events). A `: heartbeat` comment every ' +
        '15 s. Resume with the Last-Event-ID header within events.retention; an id older than every retained ' +
        'event resumes from the oldest one (a `: expired` comment says so). At most events.max_streams at once.',
      query,
      responses: {
        200: { description: 'text/event-stream' },
        400: { description: 'unknown type or Last-Event-ID' },
        503: { description: 'too many open streams (Retry-After)' },
      },
    },
    async (c, { query }) => {
      const streams = deps.events.streams;
      const lastId = c.req.header('last-event-id') ?? query.last_event_id;
      const resume = await streams.resumePoint(lastId);
      const filter = {
        ...(query.types && query.types.length > 0 ? { types: query.types } : {}),
        ...(query.agent_uuid ? { agent_uuid: query.agent_uuid } : {}),
      };
      let wakeWriter: (() => void) | undefined;
      const buffered: EventRow[] = [];
      let open = true;
      const sink = {
        filter,
        push(rows: EventRow[]) {
          if (!open) return false;
          if (buffered.length + rows.length > MAX_BUFFERED) {
            open = false;
            wakeWriter?.();
            return false;
          }
          buffered.push(...rows);
          wakeWriter?.();
          return true;
        },
      };
      // Attach before answering: past the bound this throws 503 instead of opening a stream.
      const detach = streams.attach(sink, resume.seq);
      return streamSSE(c, async (stream) => {
        stream.onAbort(() => {
          open = false;
          wakeWriter?.();
        });
        const heartbeat = setInterval(() => {
          wakeWriter?.();
          void stream.write(': heartbeat\n\n');
        }, deps.config().events.heartbeat);
        heartbeat.unref();
        try {
          await stream.write(
            resume.expired ? ': expired: resuming from the oldest retained event\n\n' : ': ok\n\n',
          );
          while (open && !stream.aborted && !stream.closed) {
            const row = buffered.shift();
            if (row) {
              await stream.writeSSE({ id: row.id, event: row.type, data: JSON.stringify(toEnvelope(row)) });
              continue;
            }
            await new Promise<void>((resolve) => {
              wakeWriter = resolve;
            });
            wakeWriter = undefined;
          }
        } finally {
          clearInterval(heartbeat);
          detach();
        }
      });
    },
  );
}
