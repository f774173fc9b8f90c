// The one data table of the dashboard: an optional caption, column headers, and the rows the page
// gives, one cell per column. On a phone each row stacks into a small card whose cells carry their
// column's name (data-label), so nothing is cut off or scrolls sideways. The audit log is one such
// table, shown on the Events page.
import type { Child } from 'hono/jsx';
import type { AuditEntry } from '../../extension/audit-log.js';
import { when } from '../format.js';

export function Table(p: { head: string[]; rows: Child[][]; caption?: string; captionClass?: string }) {
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
        <tbody>
          {p.rows.map((cells) => (
            <tr>
              {cells.map((cell, i) => (
                <td data-label={p.head[i]}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Audit entries newest first; a token actor by its name (the id on hover), details as the compact JSON
 * they were recorded with.
 */
export function AuditTable(p: { entries: AuditEntry[]; tokenNames: Map<string, string> }) {
  if (p.entries.length === 0) return <p class="muted">No audited action yet.</p>;
  return (
    <Table
      head={['When', 'Action', 'Actor', 'Details']}
      rows={p.entries.map((a) => [
        when(a.at),
        a.action,
        p.tokenNames.has(a.actor) ? <span title={a.actor}>{p.tokenNames.get(a.actor)}</span> : a.actor,
        <code>{JSON.stringify(a.details)}</code>,
      ])}
    />
  );
}
