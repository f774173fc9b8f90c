// The dashboard's Events page (root, SPEC §13): each webhook subscription with its delivery health and
// latest attempts, as the subscriptions API reports them, and an empty state that says what to do.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json } from '../helpers/json.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { one } from '../inbox/db-view.js';
import { deliver, fixture } from '../webhook/deliveries.js';
import { dashGet, signInDashboard } from './session.js';

const BASE = '/api/extensions/native-whatsapp/management/webhooks';
let t: TestApp;
let rx: WebhookReceiver;
beforeEach(async () => {
  t = await createTestApp();
  rx = await startWebhookReceiver();
});
afterEach(async () => {
  await rx.close();
  await t.close();
});

describe('dashboard events page', () => {
  it('says how to subscribe while there is no subscription', async () => {
    const s = await signInDashboard(t, t.tokens.root);
    const page = await (await dashGet(t, s, '/dashboard/events')).text();
    expect(page).toContain('No subscription yet');
    expect(page).toContain(`POST ${BASE}`);
  });

  it('shows the audit log with the sign-in, its actor by token name', async () => {
    const s = await signInDashboard(t, t.tokens.root);
    const page = await (await dashGet(t, s, '/dashboard/events')).text();
    const id = one<{ id: string }>(t, "select id from api_tokens where name = 'test-root'").id;
    expect(page).toContain('dashboard.sign_in');
    expect(page).toContain(`<span title="${id}">test-root</span>`);
  });

  it('lists a subscription with its health and its latest delivery attempts', async () => {
    const created = await t.request(BASE, {
      body: { url: rx.url, types: ['message.received'], description: 'crm sync' },
    });
    expect(created.status).toBe(201);
    rx.secrets.push((await json(created)).secret);
    await deliver(t, fixture('dup_inbound_first_delivery.json'));
    await t.deps.events.delivery.drain();
    const s = await signInDashboard(t, t.tokens.root);
    const page = await (await dashGet(t, s, '/dashboard/events')).text();
    expect(page).toContain(rx.url);
    expect(page).toContain('crm sync');
    expect(page).toMatch(/1 delivered · 0 waiting · 0 dead/);
    expect(page).toContain('message.received');
    expect(page).toContain('Latest delivery attempts');
    // A standard token still sees none of it.
    const std = await signInDashboard(t, t.tokens.standard);
    expect((await dashGet(t, std, '/dashboard/events')).status).toBe(403);
  });
});

describe('dashboard live stream', () => {
  it('pushes the type of each change to an open page, without waiting for its polling fallback', async () => {
    const s = await signInDashboard(t, t.tokens.standard);
    const abort = new AbortController();
    const res = await t.daemon.app.app.request('/dashboard/live', {
      headers: { cookie: s.cookie },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(': ok');
    await deliver(t, fixture('dup_inbound_first_delivery.json'));
    await readUntil('event: message.received');
    expect(text).toContain('event: conversation.opened');
    abort.abort();
    await reader.cancel().catch(() => undefined);
  });

  it('refuses a request without a session', async () => {
    const res = await t.daemon.app.app.request('/dashboard/live');
    expect([302, 303, 401]).toContain(res.status);
  });
});
