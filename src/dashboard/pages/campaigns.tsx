// Campaigns: the list, and one campaign with its funnel, failures by reason, first recipients and the
// commands its state allows.
import { ALLOWED_FROM, type CampaignCommand, type CampaignView } from '../../campaigns/campaign.js';
import type { SendableTemplate } from '../../campaigns/templates.js';
import type { CampaignDetail, Funnel } from '../campaigns-data.js';
import { pct, when } from '../format.js';
import { type PageAt, Pager } from '../paging.js';
import { BASE, type Viewer } from '../view.js';
import { Csrf, Empty, Layout } from './layout.js';
import { Table } from './table.js';
import { TemplatePicker } from './template-picker.js';

export function CampaignsPage(p: {
  viewer: Viewer;
  campaigns: CampaignView[];
  at: PageAt;
  next_cursor: string | null;
}) {
  return (
    <Layout title="Campaigns" section="campaigns" viewer={p.viewer}>
      {p.campaigns.length === 0 ? (
        <Empty title="No campaigns yet">
          <p>
            A campaign sends one approved template to a list of customers at a steady pace. Create one with{' '}
            <code>POST /api/extensions/native-whatsapp/runtime/campaigns</code>, then start it here.
          </p>
        </Empty>
      ) : (
        <ul class="list" aria-label="Campaigns, newest first">
          {p.campaigns.map((c) => (
            <li>
              <a class="row" href={`${BASE}/campaigns/${encodeURIComponent(c.id)}`}>
                <span class="who">{c.name}</span>
                <span class={`badge ${c.state}`}>{c.state}</span>
                <span class="meta">
                  {c.recipients} recipients · response {pct(c.response_rate)} · created{' '}
                  <time datetime={c.created_at}>{when(c.created_at)}</time>
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
      <Pager
        path={`${BASE}/campaigns`}
        params={new URLSearchParams()}
        at={p.at}
        next_cursor={p.next_cursor}
        label="Campaign pages"
      />
    </Layout>
  );
}

const STAGES: { key: keyof Funnel; label: string }[] = [
  { key: 'targeted', label: 'Targeted' },
  { key: 'sent', label: 'Sent' },
  { key: 'delivered', label: 'Delivered' },
  { key: 'read', label: 'Read' },
  { key: 'replied', label: 'Replied' },
];

function FunnelChart(p: { funnel: Funnel }) {
  const top = Math.max(1, p.funnel.targeted);
  const text = STAGES.map((s) => `${s.label} ${p.funnel[s.key]}`).join(', ');
  return (
    <figure style="margin:0">
      <svg
        class="funnel"
        viewBox="0 0 300 150"
        role="img"
        aria-label={`Funnel: ${text}`}
        style="width:100%;max-width:520px;display:block"
      >
        <title>{`Funnel: ${text}`}</title>
        {STAGES.map((s, i) => {
          const w = Math.max(2, (p.funnel[s.key] / top) * 200);
          return (
            <g>
              <text x="0" y={i * 30 + 17} font-size="11" fill="#5b6675">
                {s.label}
              </text>
              <rect
                x="70"
                y={i * 30 + 5}
                width={w.toFixed(1)}
                height="18"
                rx="3"
                fill="#0f766e"
                opacity={(1 - i * 0.13).toFixed(2)}
              />
              <text x={(74 + w).toFixed(1)} y={i * 30 + 18} font-size="11" fill="#1c2430">
                {p.funnel[s.key]}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

const COMMANDS: { cmd: CampaignCommand; label: string; tone: string; confirm?: string }[] = [
  { cmd: 'start', label: 'Start', tone: '' },
  { cmd: 'pause', label: 'Pause', tone: 'secondary' },
  { cmd: 'resume', label: 'Resume', tone: '' },
  {
    cmd: 'cancel',
    label: 'Cancel campaign',
    tone: 'danger',
    confirm: 'Cancel this campaign? Nothing more is sent.',
  },
];

export function CampaignPage(p: {
  viewer: Viewer;
  detail: CampaignDetail;
  templates: SendableTemplate[];
  chosen: SendableTemplate | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  const { campaign: c, recipients } = p.detail;
  const { funnel, failures, cost } = c;
  const retargetable = ['paused', 'completed', 'cancelled'].includes(c.state);
  const act = `${BASE}/campaigns/${encodeURIComponent(c.id)}`;
  return (
    <Layout title={c.name} section="campaigns" viewer={p.viewer} notice={p.notice} error={p.error}>
      <p class="muted">
        <span class={`badge ${c.state}`}>{c.state}</span> template {c.template.name} ({c.template.language}) ·{' '}
        {c.rate_per_second}/s · response rate <strong>{pct(c.response_rate)}</strong>
        {c.eta && ['running', 'scheduled', 'paused'].includes(c.state) ? (
          <>
            {' '}
            · finishes about <time datetime={c.eta}>{when(c.eta)}</time>
          </>
        ) : null}
      </p>
      {c.pause_reason ? (
        <p class="flash err" role="status">
          Paused: {c.pause_reason}
        </p>
      ) : null}
      {c.retarget_of ? (
        <p class="muted">
          Made from <a href={`${BASE}/campaigns/${encodeURIComponent(c.retarget_of)}`}>an earlier campaign</a>
          .
        </p>
      ) : null}
      <div class="inline" style="margin-bottom:1rem">
        {COMMANDS.filter((x) => ALLOWED_FROM[x.cmd].includes(c.state)).map((x) => (
          <form method="post" action={`${act}/${x.cmd}`} data-confirm={x.confirm}>
            <Csrf viewer={p.viewer} />
            <button type="submit" class={x.tone}>
              {x.label}
            </button>
          </form>
        ))}
        <a class="button secondary" href={`${act}/export`} download>
          Export recipients (CSV)
        </a>
      </div>
      <section class="cards">
        <article class="card" aria-labelledby="f-h">
          <h2 id="f-h">Funnel</h2>
          <FunnelChart funnel={funnel} />
          <p>
            {funnel.queued} queued · {funnel.failed} failed · {funnel.skipped_opted_out} skipped (opted out)
          </p>
        </article>
        <article class="card" aria-labelledby="fail-h">
          <h2 id="fail-h">Failures by reason</h2>
          {failures.length === 0 ? (
            <p>No failed sends.</p>
          ) : (
            <ul class="reasons">
              {failures.map((f) => (
                <li>
                  {f.count} × {f.title}
                  {f.code !== null ? ` (${f.code})` : ''}
                </li>
              ))}
            </ul>
          )}
        </article>
        <article class="card" aria-labelledby="cost-h">
          <h2 id="cost-h">Cost</h2>
          {cost.total !== null ? (
            <p class="big">
              {cost.total.toFixed(2)} <small>{cost.currency}</small>
            </p>
          ) : (
            <p>No rate card configured (pricing.rates): billable messages are counted, not priced.</p>
          )}
          <ul class="reasons">
            {Object.entries(cost.by_category).map(([k, v]) => (
              <li>
                {k}: {v.billable} billable, {v.free} free
              </li>
            ))}
          </ul>
          {cost.per_reply !== null ? (
            <p>
              {cost.per_reply.toFixed(2)} {cost.currency} per reply
            </p>
          ) : null}
        </article>
      </section>
      {retargetable ? (
        <section class="card" aria-labelledby="rt-h" style="margin-top:1rem">
          <h2 id="rt-h">Retarget</h2>
          <p>
            A new draft campaign of the recipients who did not reply, did not read, or failed (opted-out left
            out).
          </p>
          <TemplatePicker
            id="rt"
            viewer={p.viewer}
            templates={p.templates}
            chosen={p.chosen}
            pageUrl={`${act}#rt-h`}
            postUrl={`${act}/retarget`}
            submitLabel="Create draft"
          >
            <div class="field">
              <label for="rt-aud">Who</label>
              <select id="rt-aud" name="audience">
                <option value="no_reply">Did not reply</option>
                <option value="not_read">Did not read</option>
                <option value="failed">Failed (retryable)</option>
              </select>
            </div>
          </TemplatePicker>
        </section>
      ) : null}
      <h2 style="margin-top:1.25rem">Recipients</h2>
      <Table
        head={['#', 'Customer', 'State', 'Sent', 'Failure']}
        caption="First recipients of the campaign"
        captionClass="sr"
        rows={recipients.map((r) => [
          r.index,
          r.conversation_id ? (
            <a href={`${BASE}/conversations/${encodeURIComponent(r.conversation_id)}`}>{r.wa_id}</a>
          ) : (
            r.wa_id
          ),
          <span class={`badge ${r.state}`}>{r.state}</span>,
          when(r.sent_at),
          r.error_title ?? '',
        ])}
      />
      {c.recipients > recipients.length ? (
        <p class="muted">
          Showing the first {recipients.length} of {c.recipients}.
        </p>
      ) : null}
    </Layout>
  );
}
