// Paging the dashboard's long lists in a real browser (SPEC §13): more conversations than the 100 a
// page shows and more campaigns than 50, walked with the Next and Previous links (keyset cursors, the
// trail of earlier cursors in the URL), each page holding exactly the rows the order puts there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { one } from '../inbox/db-view.js';
import { attachAgent } from '../outbound/harness.js';
import { deliver, deliveryOf, fixture, messagesChange, signed } from '../webhook/deliveries.js';
import { launchBrowser, RUN_BROWSER, signInBrowser } from './browser.js';

const CONVERSATIONS = 105;
const CAMPAIGNS = 103;
let t: TestApp;
let context: BrowserContext;
let page: Page;
let dir: string;

const name = (i: number) => `Customer ${String(i).padStart(3, '0')}`;

describe.skipIf(!RUN_BROWSER)('dashboard paging in a browser', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nwa-dashboard-paging-'));
    t = await createTestApp({ listen: true, start: '2026-01-04T09:00:00Z' });
    await attachAgent(t);
    // One customer a minute: customer 104 is the newest, so the first page runs 104 down to 5.
    for (let i = 0; i < CONVERSATIONS; i++) {
      const from = `49171${String(i).padStart(7, '0')}`;
      const ts = Math.floor(t.clock.now() / 1000);
      await deliver(
        t,
        signed(
          deliveryOf([
            messagesChange([{ wa_id: from, name: name(i) }], [{ from, timestamp: ts, body: 'Hi' }]),
          ]),
        ),
      );
      t.clock.advance(60_000);
    }
    await deliver(t, fixture('field_message_template_status_approved.json'));
    const agent = one<{ uuid: string }>(t, 'select uuid from agents').uuid;
    for (let i = 0; i < CAMPAIGNS; i++) {
      const res = await t.request('/api/extensions/native-whatsapp/runtime/campaigns', {
        body: {
          name: `Campaign ${String(i).padStart(3, '0')}`,
          agent_uuid: agent,
          template: { name: 'order_shipped', language: 'pt_BR' },
          recipients: [{ wa_id: '4915300000001' }],
        },
      });
      expect(res.status).toBe(201);
      t.clock.advance(1_000);
    }
    ({ context, page } = await launchBrowser(dir));
    await signInBrowser(page, t.daemon.url, t.tokens.standard);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const names = () => page.locator('.list .who').allTextContents();

  it('pages through more conversations than fit on a page, forward and back', async () => {
    await page.goto(`${t.daemon.url}/dashboard/conversations`);
    const first = await names();
    expect(first).toHaveLength(100);
    expect(first[0]).toBe(name(104));
    expect(first[99]).toBe(name(5));
    expect(await page.getByRole('link', { name: '← Previous' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Next →' }).click();
    await page.getByText('Page 2').waitFor();
    expect(new URL(page.url()).searchParams.get('cursor')).toBeTruthy();
    expect(await names()).toEqual([4, 3, 2, 1, 0].map(name));
    expect(await page.getByRole('link', { name: 'Next →' }).count()).toBe(0);
    await page.getByRole('link', { name: '← Previous' }).click();
    await page.getByText('Page 1').waitFor();
    expect(await names()).toEqual(first);
  });

  it('keeps the filters while paging', async () => {
    await page.goto(`${t.daemon.url}/dashboard/conversations?state=open`);
    await page.getByRole('link', { name: 'Next →' }).click();
    await page.getByText('Page 2').waitFor();
    expect(new URL(page.url()).searchParams.get('state')).toBe('open');
    expect(await names()).toHaveLength(CONVERSATIONS - 100);
  });

  it('pages through more campaigns than fit on a page, three pages deep and back', async () => {
    await page.goto(`${t.daemon.url}/dashboard/campaigns`);
    const pages: string[][] = [await names()];
    while (await page.getByRole('link', { name: 'Next →' }).count()) {
      await page.getByRole('link', { name: 'Next →' }).click();
      await page.getByText(`Page ${pages.length + 1}`).waitFor();
      pages.push(await names());
    }
    expect(pages.map((p) => p.length)).toEqual([50, 50, 3]);
    const all = pages.flat();
    expect(all).toEqual(
      Array.from({ length: CAMPAIGNS }, (_, i) => `Campaign ${String(CAMPAIGNS - 1 - i).padStart(3, '0')}`),
    );
    await page.getByRole('link', { name: '← Previous' }).click();
    await page.getByText('Page 2').waitFor();
    expect(await names()).toEqual(pages[1]);
    await page.getByRole('link', { name: '← Previous' }).click();
    await page.getByText('Page 1').waitFor();
    expect(await names()).toEqual(pages[0]);
  });
});
