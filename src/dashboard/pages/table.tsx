// The one data table of the dashboard: a scrolling wrapper (phones scroll the table, not the page),
// an optional caption, column headers, and the rows the page gives. The audit log is one such table,
// shown on the Events page.
import type { Child } from 'hono/jsx';
import type { AuditEntry } from '../../extension/audit-log.js';
import { when } from '../format.js';

export function Table(p: { head: string[]; caption?: string; captionClass?: string; children: Child }) {
  return (
    <div class="table-wrap">
      <table>
        {p.caption ? <caption class={p.captionClass ?? 'muted'}>{p.caption}</caption> : null}
        <thead>
          <tr>
            {p.head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{p.children}</tbody>
      </table>
    </div>
  );
}

/** Audit entries newest first; details as the compact JSON they were recorded with. */
export function AuditTable(p: { entries: AuditEntry[] }) {
  if (p.entries.length === 0) return <p class="muted">No audited action yet.</p>;
  return (
    <Table head={['When', 'Action', 'Actor', 'Details']}>
      {p.entries.map((a) => (
        <tr>
          <td>{when(a.at)}</td>
          <td>{a.action}</td>
          <td>{a.actor}</td>
          <td>
            <code>{JSON.stringify(a.details)}</code>
          </td>
        </tr>
      ))}
    </Table>
  );
}
