// One conversation: the timeline (messages with media and delivery status, state changes, follow-ups)
// beside what a human can do (drafts to approve, edit or discard; reply inside the window or with a
// template outside it; take over, hand back, escalate, close).
import type { SendableTemplate } from '../../campaigns/templates.js';
import type { ConversationDetail, DetailMessage, TimelineEntry } from '../conversations-data.js';
import { when } from '../format.js';
import { BASE, type Viewer } from '../view.js';
import { Csrf, Layout } from './layout.js';
import { TemplatePicker } from './template-picker.js';

const MEDIA_BASE = `${BASE}/media`;

function Media(p: { m: DetailMessage }) {
  const media = p.m.media;
  if (!media) return null;
  const href = `${MEDIA_BASE}/${encodeURIComponent(media.media_id)}`;
  const label = `${media.type}${media.filename ? ` · ${media.filename}` : ''}`;
  if (media.state !== 'stored') {
    return (
      <span class="badge">
        {label} · {media.state}
        {media.error ? ` (${media.error.replaceAll('_', ' ')})` : ''}
      </span>
    );
  }
  if (media.type === 'image' || media.type === 'sticker') {
    return (
      <a href={href}>
        <img class="media" src={href} alt={p.m.text ?? `${media.type} from the customer`} loading="lazy" />
      </a>
    );
  }
  return (
    <a class="badge" href={href}>
      Open {label}
    </a>
  );
}

function Message(p: { m: DetailMessage }) {
  const m = p.m;
  const out = m.direction === 'outbound';
  return (
    <li class={out ? 'out' : 'in'} data-item={m.wamid}>
      <div class="bubble">
        <span class="sr">{out ? 'We wrote: ' : 'Customer wrote: '}</span>
        <Media m={m} /> {m.text ?? (m.media ? '' : `(${m.type})`)}
        <span class="meta">
          <time datetime={m.timestamp}>{when(m.timestamp)}</time>
          {out && m.status ? ` · ${m.status}` : ''}
          {m.error_code !== null
            ? ` · error ${m.error_code}${m.error_title ? `: ${m.error_title}` : ''}`
            : ''}
        </span>
      </div>
    </li>
  );
}

function Entry(p: { e: TimelineEntry }) {
  const e = p.e;
  if (e.kind === 'message') return <Message m={e.message} />;
  if (e.kind === 'transition') {
    return (
      <li class="event">
        <span class="note">
          {e.from ? `${e.from} → ${e.to}` : `opened as ${e.to}`} · {e.reason} · by {e.actor} ·{' '}
          <time datetime={e.at}>{when(e.at)}</time>
        </span>
      </li>
    );
  }
  if (e.kind === 'draft') {
    return (
      <li class="event">
        <span class="note">
          draft from {e.source} {e.state}
          {e.edited ? ' (edited)' : ''}
          {e.reason ? ` (${e.reason.replaceAll('_', ' ')})` : ''} · <time datetime={e.at}>{when(e.at)}</time>
        </span>
      </li>
    );
  }
  return (
    <li class="event">
      <span class="note">
        follow-up “{e.rule_id}” {e.state}
        {e.skip_reason ? ` (${e.skip_reason})` : ''} · due <time datetime={e.at}>{when(e.at)}</time>
      </span>
    </li>
  );
}

export function Timeline(p: { detail: ConversationDetail }) {
  return (
    <>
      {p.detail.truncated ? (
        <li class="event">
          <span class="note">Older messages are not shown.</span>
        </li>
      ) : null}
      {p.detail.timeline.map((e) => (
        <Entry e={e} />
      ))}
    </>
  );
}

export function ConversationPage(p: {
  viewer: Viewer;
  detail: ConversationDetail;
  now: number;
  notice?: string | undefined;
  error?: string | undefined;
  drafts_enabled: boolean;
  agent_name?: string | undefined;
  templates: SendableTemplate[];
  chosen: SendableTemplate | undefined;
}) {
  const s = p.detail.snapshot;
  const act = `${BASE}/conversations/${encodeURIComponent(s.conversation_id)}`;
  const windowOpen = s.window_expires_at !== null && Date.parse(s.window_expires_at) > p.now;
  const pending = p.detail.drafts.filter((d) => d.state === 'pending');
  const closed = s.queue_state === 'closed';
  const who = s.contact_name ?? s.wa_id ?? s.user_id ?? 'Conversation';
  return (
    <Layout title={who} section="conversations" viewer={p.viewer} notice={p.notice} error={p.error}>
      <p class="muted">
        <span class={`badge ${s.queue_state}`}>{s.queue_state}</span>{' '}
        <span class="badge">route {s.assigned_route}</span> <span class="badge">{s.conversation_class}</span>
        {s.escalation_reason ? ` · escalated: ${s.escalation_reason}` : ''}
        {s.closed_reason ? ` · closed: ${s.closed_reason}` : ''}
      </p>
      <div class="detail">
        <section aria-labelledby="tl">
          <h2 id="tl">Timeline</h2>
          <ol class="timeline" data-live data-src={`${act}/timeline`} data-every="5000">
            <Timeline detail={p.detail} />
          </ol>
        </section>
        <aside class="actions" aria-label="Actions">
          {pending.map((d) => (
            <section class="draft-box" aria-label="Draft reply">
              <h3>Draft reply from {d.source}</h3>
              <form method="post" action={`${act}/drafts/${encodeURIComponent(d.id)}/approve`}>
                <Csrf viewer={p.viewer} />
                <label class="sr" for={`draft-${d.id}`}>
                  Draft text (edit before approving)
                </label>
                <textarea id={`draft-${d.id}`} name="text" maxlength={4096} required>
                  {d.text}
                </textarea>
                <div class="inline">
                  <button type="submit" disabled={!p.drafts_enabled}>
                    Approve and send
                  </button>
                  <button
                    type="submit"
                    class="secondary"
                    formaction={`${act}/drafts/${encodeURIComponent(d.id)}/discard`}
                    formnovalidate
                    disabled={!p.drafts_enabled}
                  >
                    Discard
                  </button>
                </div>
                {p.drafts_enabled ? null : (
                  <p class="muted">Approving drafts needs the drafts API (not built in).</p>
                )}
              </form>
            </section>
          ))}
          {closed ? null : (
            <section aria-labelledby="reply-h">
              <h3 id="reply-h">Reply</h3>
              {windowOpen ? (
                <form method="post" action={`${act}/reply`}>
                  <Csrf viewer={p.viewer} />
                  <label class="sr" for="reply-text">
                    Message
                  </label>
                  <textarea
                    id="reply-text"
                    name="text"
                    maxlength={4096}
                    required
                    placeholder="Write a reply…"
                  />
                  <p class="muted">
                    The customer can get free text until{' '}
                    <time datetime={s.window_expires_at ?? ''}>{when(s.window_expires_at)}</time>.
                  </p>
                  <button type="submit">Send reply</button>
                </form>
              ) : (
                <p class="muted">
                  The 24-hour window is closed
                  {s.window_expires_at ? ` since ${when(s.window_expires_at)}` : ''}: WhatsApp only allows an
                  approved template now.
                </p>
              )}
              <details open={!windowOpen || p.chosen !== undefined}>
                <summary id="template-h">Send a template</summary>
                <TemplatePicker
                  id="reply"
                  viewer={p.viewer}
                  templates={p.templates}
                  chosen={p.chosen}
                  pageUrl={`${act}#template-h`}
                  postUrl={`${act}/reply`}
                  submitLabel="Send template"
                />
              </details>
            </section>
          )}
          {closed ? null : (
            <section aria-labelledby="route-h">
              <h3 id="route-h">Handling</h3>
              <div class="inline">
                {s.assigned_route !== 'human' ? (
                  <form method="post" action={`${act}/route`}>
                    <Csrf viewer={p.viewer} />
                    <input type="hidden" name="route" value="human" />
                    <button type="submit" class="secondary">
                      Take over
                    </button>
                  </form>
                ) : null}
                {s.assigned_route !== 'ai' ? (
                  <form method="post" action={`${act}/route`}>
                    <Csrf viewer={p.viewer} />
                    <input type="hidden" name="route" value="ai" />
                    <button type="submit" class="secondary">
                      Hand back to AI
                    </button>
                  </form>
                ) : null}
                <form method="post" action={`${act}/close`} data-confirm="Close this conversation?">
                  <Csrf viewer={p.viewer} />
                  <button type="submit" class="danger">
                    Close
                  </button>
                </form>
              </div>
              {s.queue_state !== 'escalated' ? (
                <form method="post" action={`${act}/escalate`} class="inline" style="margin-top:.6rem">
                  <Csrf viewer={p.viewer} />
                  <div class="field">
                    <label for="esc-reason">Escalation reason</label>
                    <input
                      type="text"
                      id="esc-reason"
                      name="reason"
                      maxlength={200}
                      placeholder="needs a specialist"
                    />
                  </div>
                  <button type="submit" class="secondary">
                    Escalate
                  </button>
                </form>
              ) : null}
            </section>
          )}
          <section aria-labelledby="about-h">
            <h3 id="about-h">About</h3>
            <dl class="kv">
              <dt>Customer</dt>
              <dd>{s.wa_id ?? s.user_id ?? '—'}</dd>
              <dt>Agent</dt>
              <dd>{p.agent_name ?? s.agent_uuid ?? 'none'}</dd>
              <dt>Priority</dt>
              <dd>{s.priority}</dd>
              <dt>Opened</dt>
              <dd>
                <time datetime={s.opened_at}>{when(s.opened_at)}</time>
              </dd>
              {s.campaign_id ? (
                <>
                  <dt>Campaign</dt>
                  <dd>
                    <a href={`${BASE}/campaigns/${encodeURIComponent(s.campaign_id)}`}>{s.campaign_id}</a>
                  </dd>
                </>
              ) : null}
            </dl>
          </section>
        </aside>
      </div>
    </Layout>
  );
}
