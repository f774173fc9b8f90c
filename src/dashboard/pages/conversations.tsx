// Conversations: filters (state, route, class, agent), then the list with the ones waiting for a
// human first. The list is a live region that refreshes itself (see assets/client.ts).
import type { Agent } from '../../agents/agents.js';
import type { ListFilters, ListItem } from '../conversations-data.js';
import { type PageAt, Pager } from '../paging.js';
import { BASE, type Viewer } from '../view.js';
import { Empty, Layout } from './layout.js';

export function ConversationRows(p: { items: ListItem[]; filtered: boolean }) {
  if (p.items.length === 0) {
    return (
      <li class="row muted">
        {p.filtered
          ? 'No conversation matches these filters.'
          : 'No conversations yet. They appear here as soon as a customer writes (or run native-whatsapp simulate --scenario demo).'}
      </li>
    );
  }
  return (
    <>
      {p.items.map(({ snapshot: s, has_draft }) => (
        <li data-item={s.conversation_id}>
          <a class="row" href={`${BASE}/conversations/${encodeURIComponent(s.conversation_id)}`}>
            <span class="who">{s.contact_name ?? s.wa_id ?? s.user_id ?? 'unknown customer'}</span>
            <span class={`badge ${s.queue_state}`}>{s.queue_state}</span>
            {has_draft ? <span class="badge waiting">draft waiting</span> : null}
            <span class="badge">route {s.assigned_route}</span>
            <span class="badge">{s.conversation_class}</span>
            <span class="meta">
              {s.escalation_reason ? `${s.escalation_reason} · ` : ''}
              last message{' '}
              <time datetime={s.last_message_at}>{s.last_message_at.slice(0, 16).replace('T', ' ')} UTC</time>
            </span>
          </a>
        </li>
      ))}
    </>
  );
}

function Select(p: { id: string; label: string; value: string | undefined; options: [string, string][] }) {
  return (
    <div>
      <label for={p.id}>{p.label}</label>
      <select id={p.id} name={p.id}>
        <option value="">Any</option>
        {p.options.map(([v, l]) => (
          <option value={v} selected={v === p.value}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

export function ConversationsPage(p: {
  viewer: Viewer;
  filters: ListFilters;
  query: string;
  items: ListItem[];
  at: PageAt;
  next_cursor: string | null;
  agents: Agent[];
  classes: string[];
  live_stream?: string | undefined;
}) {
  const f = p.filters;
  const filtered = Object.keys(f).length > 0;
  return (
    <Layout title="Conversations" section="conversations" viewer={p.viewer}>
      <form class="filters" method="get" action={`${BASE}/conversations`} data-autosubmit>
        <Select
          id="state"
          label="State"
          value={f.state}
          options={[
            ['open', 'Open'],
            ['pending', 'Pending'],
            ['escalated', 'Escalated'],
            ['closed', 'Closed'],
          ]}
        />
        <Select
          id="route"
          label="Route"
          value={f.route}
          options={[
            ['ai', 'AI'],
            ['hybrid', 'Hybrid (drafts)'],
            ['human', 'Human'],
          ]}
        />
        <Select id="class" label="Class" value={f.class} options={p.classes.map((c) => [c, c])} />
        <Select id="agent" label="Agent" value={f.agent} options={p.agents.map((a) => [a.uuid, a.name])} />
        <button type="submit" class="secondary js-hide">
          Apply
        </button>
      </form>
      {p.agents.length === 0 ? (
        <Empty title="No agent yet">
          <p>
            Conversations are kept per WhatsApp number. Create an agent for your number and install the
            extension (see the Overview), or run <code>native-whatsapp simulate --scenario demo</code> to see
            sample traffic.
          </p>
        </Empty>
      ) : null}
      <p class="sr" id="list-status" role="status" aria-live="polite" />
      <ul
        class="list"
        aria-label="Conversations, escalated and waiting drafts first"
        data-live
        data-src={`${BASE}/conversations/rows${p.query}`}
        data-status="list-status"
        data-stream={p.live_stream}
      >
        <ConversationRows items={p.items} filtered={filtered} />
      </ul>
      <Pager
        path={`${BASE}/conversations`}
        params={new URLSearchParams(f as Record<string, string>)}
        at={p.at}
        next_cursor={p.next_cursor}
        label="Conversation pages"
      />
    </Layout>
  );
}
