// Events (root): the webhook subscriptions (SPEC §11) with their delivery health and latest attempts,
// and the audit log (root actions, dashboard sign-ins). Read-only here: subscriptions are managed through the API.
import type { AttemptView, SubscriptionView } from '../../events/subscriptions.js';
import type { AuditEntry } from '../../extension/audit-log.js';
import { when } from '../format.js';
import type { Viewer } from '../view.js';
import { Empty, Layout } from './layout.js';
import { AuditTable, Table } from './table.js';

export interface SubscriptionWithAttempts {
  subscription: SubscriptionView;
  attempts: AttemptView[];
}

const WEBHOOKS_API = '/api/extensions/native-whatsapp/management/webhooks';

function Subscription({ subscription: s, attempts }: SubscriptionWithAttempts) {
  const h = s.health;
  return (
    <article class="card" aria-labelledby={`sub-${s.id}`}>
      <h3 id={`sub-${s.id}`}>
        <code>{s.url}</code>
      </h3>
      <p>
        <span
          class={`badge ${h.status === 'healthy' ? 'active' : h.status === 'new' ? 'waiting' : 'failed'}`}
        >
          {h.status}
        </span>{' '}
        {s.enabled ? '' : `disabled${s.disabled_reason ? `: ${s.disabled_reason}` : ''} · `}
        {h.delivered} delivered · {h.pending} waiting · {h.dead} dead · types {s.types.join(', ')}
        {s.description ? ` · ${s.description}` : ''}
      </p>
      {h.last_error ? <p class="muted">Last error: {h.last_error}</p> : null}
      {attempts.length === 0 ? (
        <p class="muted">No delivery attempt yet.</p>
      ) : (
        <Table
          head={['When', 'Event', 'Answer', 'Latency']}
          caption="Latest delivery attempts"
          rows={attempts.map((a) => [
            when(a.at),
            <>
              {a.event_type} <code>{a.event_id}</code>
            </>,
            a.status_code ?? a.error ?? 'no answer',
            `${a.latency_ms} ms`,
          ])}
        />
      )}
    </article>
  );
}

export function EventsPage(p: {
  viewer: Viewer;
  audit: AuditEntry[];
  tokenNames: Map<string, string>;
  subscriptions: SubscriptionWithAttempts[];
}) {
  return (
    <Layout title="Events" section="events" viewer={p.viewer}>
      <section aria-labelledby="subs-h">
        <h2 id="subs-h">Event subscriptions</h2>
        {p.subscriptions.length === 0 ? (
          <Empty title="No subscription yet">
            <p>
              Tell the rest of the product what happens here: create a signed webhook subscription (Standard
              Webhooks) with <code>POST {WEBHOOKS_API}</code> and a root token.
            </p>
          </Empty>
        ) : (
          p.subscriptions.map((s) => <Subscription {...s} />)
        )}
        <p class="muted">
          Managed through <code>{WEBHOOKS_API}</code> (create, rotate the secret, test, replay).
        </p>
      </section>
      <section aria-labelledby="audit-h">
        <h2 id="audit-h">Audit log</h2>
        <AuditTable entries={p.audit} tokenNames={p.tokenNames} />
      </section>
    </Layout>
  );
}
