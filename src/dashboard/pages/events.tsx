// Events (root): webhook subscriptions and their deliveries when the events API is built in, and the
// audit log of root actions.
import type { AuditLogTable } from '../../store/tables.js';
import { when } from '../format.js';
import type { Viewer } from '../view.js';
import { Empty, Layout } from './layout.js';

export function EventsPage(p: { viewer: Viewer; audit: AuditLogTable[] }) {
  return (
    <Layout title="Events" section="events" viewer={p.viewer}>
      <Empty title="Event subscriptions">
        <p>
          Webhook subscriptions (Standard Webhooks) are managed under{' '}
          <code>/api/extensions/native-whatsapp/management/webhooks</code> with a root token.
        </p>
      </Empty>
      <section aria-labelledby="audit-h">
        <h2 id="audit-h">Audit log</h2>
        {p.audit.length === 0 ? (
          <p class="muted">No root action yet.</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {p.audit.map((a) => (
                  <tr>
                    <td>{when(a.at)}</td>
                    <td>{a.action}</td>
                    <td>{a.actor}</td>
                    <td>
                      <code>{a.details}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Layout>
  );
}
