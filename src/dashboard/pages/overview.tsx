// Overview: the seed's three signals first (reply pace, follow-up coverage, campaign response rate),
// then queue pressure, conversations by state and the runtime status, each with its trend over the
// window; the insight's summary sentence on top. Values carry their raw number in <data value>.
import type { Agent } from '../../agents/agents.js';
import { BarChart, LineChart, StackBar } from '../charts.js';
import { count, pct, seconds } from '../format.js';
import type { OverviewData, WindowKey } from '../overview-data.js';
import { BASE, type Viewer } from '../view.js';
import { Csrf, Empty, GettingStarted, Layout } from './layout.js';

const WINDOW_LABEL: Record<WindowKey, string> = {
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};
const BUCKET: Record<WindowKey, string> = { '24h': 'per hour', '7d': 'per 12 hours', '30d': 'per 2 days' };

function Num(p: { metric: string; value: number | null; text: string }) {
  return (
    <data data-metric={p.metric} value={p.value === null ? '' : String(p.value)}>
      {p.text}
    </data>
  );
}

export function OverviewPage(p: {
  viewer: Viewer;
  data: OverviewData;
  agents: Agent[];
  agent_uuid?: string | undefined;
  conversations_total: number;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  const { insight, trend, window } = p.data;
  const m = insight.metrics;
  const per = BUCKET[window];
  const col = <K extends keyof (typeof trend)[number]>(k: K) => trend.map((t) => t[k] as number | null);
  const states = [
    { label: 'open', value: m.conversations_open, tone: 'open' },
    { label: 'pending', value: m.conversations_pending, tone: 'pending' },
    { label: 'escalated', value: m.conversations_escalated, tone: 'escalated' },
  ];
  return (
    <Layout title="Overview" section="overview" viewer={p.viewer} notice={p.notice} error={p.error}>
      <p class="summary" data-summary>
        {insight.summary}
      </p>
      <form class="filters" method="get" action={BASE} data-autosubmit>
        <div>
          <label for="window">Window</label>
          <select id="window" name="window">
            {(Object.keys(WINDOW_LABEL) as WindowKey[]).map((w) => (
              <option value={w} selected={w === window}>
                {WINDOW_LABEL[w]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="agent">Agent</label>
          <select id="agent" name="agent">
            <option value="">All agents</option>
            {p.agents.map((a) => (
              <option value={a.uuid} selected={a.uuid === p.agent_uuid}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary js-hide">
          Apply
        </button>
      </form>
      {p.agents.length === 0 ? (
        <Empty title="Set up your first agent">
          <p>Nothing is measured until an agent owns a WhatsApp number and has the extension installed.</p>
          <GettingStarted />
        </Empty>
      ) : p.conversations_total === 0 ? (
        <Empty title="No conversations yet">
          <p>
            When customers write to your number they appear here. To see it move without a Meta account, run{' '}
            <code>native-whatsapp simulate --scenario demo</code> against this daemon.
          </p>
        </Empty>
      ) : null}
      <section class="cards" aria-label="Signals">
        <article class="card" aria-labelledby="c-pace">
          <h2 id="c-pace">Reply pace</h2>
          <p class="big">
            <Num
              metric="first_response_p50_seconds"
              value={m.first_response_p50_seconds}
              text={seconds(m.first_response_p50_seconds)}
            />{' '}
            <small>
              median · p90{' '}
              <Num
                metric="first_response_p90_seconds"
                value={m.first_response_p90_seconds}
                text={seconds(m.first_response_p90_seconds)}
              />
            </small>
          </p>
          <p>
            First response to a customer. Replied to{' '}
            <Num metric="reply_rate" value={m.reply_rate} text={pct(m.reply_rate)} /> of{' '}
            <Num metric="customer_turns" value={m.customer_turns} text={count(m.customer_turns, 'turn')} />.
          </p>
          <LineChart values={col('p50')} label={`median first response ${per}`} format={seconds} />
        </article>
        <article class="card" aria-labelledby="c-cover">
          <h2 id="c-cover">Follow-up coverage</h2>
          <p class="big">
            <Num metric="follow_up_coverage" value={m.follow_up_coverage} text={pct(m.follow_up_coverage)} />
          </p>
          <p>Of customers who went silent past a follow-up rule, the share that got the follow-up.</p>
          <LineChart
            values={col('follow_up_coverage')}
            label={`follow-up coverage ${per}`}
            format={pct}
            max={1}
          />
        </article>
        <article class="card" aria-labelledby="c-camp">
          <h2 id="c-camp">Campaign response rate</h2>
          <p class="big">
            <Num
              metric="campaign_response_rate"
              value={m.campaign_response_rate}
              text={pct(m.campaign_response_rate)}
            />
          </p>
          <p>Of campaign recipients sent in this window, the share that wrote back.</p>
          <LineChart
            values={col('campaign_response_rate')}
            label={`campaign response rate ${per}`}
            format={pct}
            max={1}
          />
        </article>
        <article class="card" aria-labelledby="c-queue">
          <h2 id="c-queue">Queue pressure</h2>
          <p class="big">
            <Num metric="queue_pressure" value={m.queue_pressure} text={String(m.queue_pressure)} />
          </p>
          <p>
            <Num
              metric="unanswered_conversations"
              value={m.unanswered_conversations}
              text={count(m.unanswered_conversations, 'conversation')}
            />{' '}
            waiting for an answer,{' '}
            <Num
              metric="outbound_pending"
              value={m.outbound_pending}
              text={count(m.outbound_pending, 'message')}
            />{' '}
            not yet accepted by WhatsApp.
          </p>
          <BarChart
            values={col('unanswered_turns')}
            label={`unanswered customer turns ${per}`}
            format={String}
          />
        </article>
        <article class="card" aria-labelledby="c-states">
          <h2 id="c-states">Conversations</h2>
          <p class="big">
            <Num
              metric="conversations_active"
              value={m.conversations_active}
              text={String(m.conversations_active)}
            />{' '}
            <small>active</small>
          </p>
          <StackBar parts={states} label="active conversations by state" />
          <ul class="legend">
            {states.map((s) => (
              <li>
                <i class={`tone-${s.tone}`} style={`background:${toneColor(s.tone)}`} />
                <a href={`${BASE}/conversations?state=${s.label}`}>
                  <Num metric={`conversations_${s.label}`} value={s.value} text={String(s.value)} /> {s.label}
                </a>
              </li>
            ))}
          </ul>
          <BarChart values={col('customer_turns')} label={`customer turns ${per}`} format={String} />
        </article>
        <article class="card" aria-labelledby="c-status">
          <h2 id="c-status">Runtime</h2>
          <p class="big">
            <span class={`status status-${insight.status}`} data-metric="status">
              {insight.status}
            </span>
          </p>
          <p>
            Automation <strong>{insight.controls.automation_mode}</strong>.
          </p>
          {insight.status_reasons.length > 0 ? (
            <ul class="reasons">
              {insight.status_reasons.map((r) => (
                <li>{r}</li>
              ))}
            </ul>
          ) : (
            <p>Everything is working.</p>
          )}
          <LineChart values={col('reply_rate')} label={`reply rate ${per}`} format={pct} max={1} />
          {p.viewer.tier === 'root' ? (
            <form
              method="post"
              action={`${BASE}/runtime/${insight.status === 'paused' ? 'resume' : 'pause'}`}
              data-root-action
              data-confirm={insight.status === 'paused' ? 'Resume sending?' : 'Pause all sending?'}
            >
              <Csrf viewer={p.viewer} />
              <button type="submit" class={insight.status === 'paused' ? '' : 'danger'}>
                {insight.status === 'paused' ? 'Resume runtime' : 'Pause runtime'}
              </button>
            </form>
          ) : null}
        </article>
      </section>
    </Layout>
  );
}

function toneColor(tone: string): string {
  return tone === 'open' ? '#0f766e' : tone === 'pending' ? '#d97706' : '#b42318';
}
