// The human loop through the dashboard's forms (SPEC §13), through app.request() with a real session:
// reply, take over, hand back, escalate, close, discard a draft, a template reply the cache refuses, and
// a campaign's pause and resume. Each action redirects back with a one-time notice or the service's
// error, and changes exactly what the same API call would.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { one } from '../inbox/db-view.js';
import { type Bench, customerConversation, startBench } from '../outbound/harness.js';
import { deliver, deliveryOf, fixture, messagesChange, signed } from '../webhook/deliveries.js';
import { type DashSession, dashGet, dashPost, signInDashboard } from './session.js';

let b: Bench;
let s: DashSession;
let conv: string;
beforeEach(async () => {
  b = await startBench({
    config: { responder: { rules: [{ keywords: ['price'], reply: 'The blue one is 20 EUR.' }] } },
  });
  conv = (await customerConversation(b.t)).id;
  s = await signInDashboard(b.t, b.t.tokens.standard);
});
afterEach(async () => {
  await b.close();
});

const act = (path: string, fields: Record<string, string> = {}) =>
  dashPost(b.t, s, `/dashboard/conversations/${conv}${path}`, { _csrf: s.csrf, ...fields });

/** The notice or error the next page shows (the flash cookie the redirect set). */
function flashOf(res: Response): { kind: string; text: string } {
  const raw = /nwa_flash=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
  return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
}

const row = () =>
  one<{ assigned_route: string; queue_state: string; escalation_reason: string | null }>(
    b.t,
    'select assigned_route, queue_state, escalation_reason from conversations where id = ?',
    conv,
  );

describe('dashboard actions', () => {
  it('sends a typed reply as written, and shows it in the timeline once sent', async () => {
    const res = await act('/reply', { text: 'We are on it, Ana.' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/dashboard/conversations/${conv}`);
    expect(flashOf(res).kind).toBe('notice');
    await b.t.deps.outbound.sender.drain();
    const sent = b.graph.requests.filter((r) => r.path.endsWith('/messages'));
    expect(sent.map((r) => (r.body as { text?: { body: string } }).text?.body)).toContain(
      'We are on it, Ana.',
    );
    expect(await (await dashGet(b.t, s, `/dashboard/conversations/${conv}`)).text()).toContain(
      'We are on it, Ana.',
    );
  });

  it('refuses an empty reply with a message and sends nothing', async () => {
    const res = await act('/reply', { text: '   ' });
    expect(flashOf(res)).toEqual({ kind: 'error', text: 'Write a reply first.' });
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests.filter((r) => r.path.endsWith('/messages'))).toHaveLength(0);
  });

  it('takes over (route human), hands back (route ai), escalates with a reason and closes', async () => {
    await act('/route', { route: 'human' });
    expect(row().assigned_route).toBe('human');
    await act('/route', { route: 'ai' });
    expect(row().assigned_route).toBe('ai');
    await act('/escalate', { reason: 'needs a specialist' });
    expect(row()).toMatchObject({ queue_state: 'escalated', escalation_reason: 'needs a specialist' });
    await act('/close');
    expect(row().queue_state).toBe('closed');
    const bad = await act('/route', { route: 'robot' });
    expect(flashOf(bad)).toEqual({ kind: 'error', text: 'route must be human, hybrid or ai' });
  });

  it('discards a waiting draft: nothing is sent and the timeline says so', async () => {
    await act('/route', { route: 'hybrid' });
    await deliver(b.t, customerAsks('What is the price?'));
    await b.t.deps.outbound.responder.drain();
    const draft = one<{ id: string }>(b.t, "select id from drafts where state = 'pending'").id;
    const res = await act(`/drafts/${draft}/discard`);
    expect(flashOf(res)).toEqual({ kind: 'notice', text: 'Draft discarded.' });
    expect(one<{ state: string }>(b.t, 'select state from drafts where id = ?', draft).state).toBe(
      'discarded',
    );
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests.filter((r) => r.path.endsWith('/messages'))).toHaveLength(0);
    expect(await (await dashGet(b.t, s, `/dashboard/conversations/${conv}`)).text()).toContain('draft from');
  });

  it('refuses a template the cache does not hold as approved, naming it, and sends nothing', async () => {
    await deliver(b.t, fixture('field_message_template_status_approved.json'));
    const unknown = await act('/reply', { template_name: 'no_such', template_language: 'en_US' });
    expect(flashOf(unknown).text).toBe('Template “no_such” (en_US) is not known: sync the templates first.');
    const t = one<{ name: string; language: string }>(b.t, 'select name, language from templates');
    await deliver(b.t, templateStatus('PAUSED', t));
    const paused = await act('/reply', { template_name: t.name, template_language: t.language });
    expect(flashOf(paused).text).toBe(`Template “${t.name}” (${t.language}) is PAUSED, not approved.`);
    await b.t.deps.outbound.sender.drain();
    expect(b.graph.requests.filter((r) => r.path.endsWith('/messages'))).toHaveLength(0);
  });

  it('pauses and resumes a running campaign', async () => {
    await deliver(b.t, fixture('field_message_template_status_approved.json'));
    const t = one<{ name: string; language: string }>(b.t, 'select name, language from templates');
    const agent = one<{ uuid: string }>(b.t, 'select uuid from agents').uuid;
    const created = await b.t.request('/api/extensions/native-whatsapp/runtime/campaigns', {
      body: { name: 'Promo', agent_uuid: agent, template: t, recipients: [{ wa_id: '4915300000001' }] },
    });
    const id = ((await created.json()) as { id: string }).id;
    const post = (cmd: string) => dashPost(b.t, s, `/dashboard/campaigns/${id}/${cmd}`, { _csrf: s.csrf });
    const state = () => one<{ state: string }>(b.t, 'select state from campaigns where id = ?', id).state;
    expect(flashOf(await post('start')).text).toBe('Campaign is running.');
    expect(flashOf(await post('pause')).text).toBe('Campaign is paused.');
    expect(state()).toBe('paused');
    expect(flashOf(await post('resume')).text).toBe('Campaign is running.');
    expect(state()).toBe('running');
  });
});

function customerAsks(body: string) {
  const from = '4917000000001';
  const ts = Math.floor(b.t.clock.now() / 1000);
  return signed(
    deliveryOf([messagesChange([{ wa_id: from, name: 'Customer' }], [{ from, timestamp: ts, body }])]),
  );
}

/** A template status webhook, later than the approval fixture's entry time (1767622200). */
function templateStatus(event: string, t: { name: string; language: string }) {
  return signed({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        time: 1767622200 + 60,
        changes: [
          {
            field: 'message_template_status_update',
            value: {
              event,
              message_template_id: 1689556908129832,
              message_template_name: t.name,
              message_template_language: t.language,
              reason: 'NONE',
            },
          },
        ],
      },
    ],
  });
}
