// SPEC §12 inbound media: each state of a download against a fake Graph API (a real local server that
// serves media metadata and bytes only with the bearer token): stored, failed with each cause,
// re-resolved after an expired url, retried after a 5xx, evicted by the quota, expired by retention;
// nothing partial is ever left on disk and the queue moves on.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mediaRepo } from '../../src/store/media-repo.js';
import { type FakeGraphApi, type FakeMedia, startFakeGraphApi } from '../helpers/fake-graph-api.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { rows } from '../inbox/db-view.js';
import { deliver, deliveryOf, messagesChange, signed, wamid } from '../webhook/deliveries.js';

const TOKEN = 'EAAmedia_test_token_0123456789';
let graph: FakeGraphApi | undefined;
let t: TestApp | undefined;

afterEach(async () => {
  await t?.close();
  await graph?.close();
  t = undefined;
  graph = undefined;
});

async function setup(media: Record<string, unknown> = {}): Promise<{ t: TestApp; graph: FakeGraphApi }> {
  graph = await startFakeGraphApi();
  graph.requireToken(TOKEN);
  t = await createTestApp({
    config: {
      channels: { access_token: TOKEN, api_base_url: graph.url },
      media: { retry_base_delay: '1s', ...media },
    },
  });
  return { t, graph };
}

function mediaDir(app: TestApp): string {
  return app.deps.media.storage().dir;
}

/** Every file under the media folder (temporary ones included). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

async function receive(
  app: TestApp,
  type: string,
  mediaId: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const id = wamid('media');
  await deliver(
    app,
    signed(
      deliveryOf([
        messagesChange(
          [{ wa_id: '4917000000001' }],
          [
            {
              from: '4917000000001',
              id,
              timestamp: Math.floor(app.clock.now() / 1000),
              type,
              extra: { [type]: { id: mediaId, mime_type: 'image/jpeg', ...extra } },
            },
          ],
        ),
      ]),
    ),
  );
  return id;
}

async function stateOf(app: TestApp, mediaId: string) {
  return mediaRepo.getByMediaId(app.deps.db, mediaId);
}

const jpeg = (n: number, seed = 1): Buffer => Buffer.alloc(n, seed);

describe('inbound media downloads', () => {
  it('stores an image content-addressed with 0600 files and 0700 folders and serves it', async () => {
    const { t, graph } = await setup();
    const bytes = jpeg(200_000);
    graph.addMedia('m-ok', { bytes, mime_type: 'image/jpeg' });
    const msg = await receive(t, 'image', 'm-ok');
    await t.deps.media.drain();
    const row = await stateOf(t, 'm-ok');
    const hex = createHash('sha256').update(bytes).digest('hex');
    expect(row).toMatchObject({
      state: 'stored',
      content_sha256: hex,
      mime_type: 'image/jpeg',
      message_wamid: msg,
    });
    const file = t.deps.media.storage().filePath(hex);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(mediaDir(t)).mode & 0o777).toBe(0o700);
    // The domain event log says so, in the transaction that stored it (SPEC §11 media.stored).
    const stored = rows<{ data: string }>(t, "select data from domain_events where type = 'media.stored'");
    expect(stored.map((e) => JSON.parse(e.data))).toEqual([
      expect.objectContaining({
        wamid: msg,
        media_id: 'm-ok',
        mime_type: 'image/jpeg',
        size_bytes: 200_000,
        sha256: hex,
      }),
    ]);
    // Every Graph call carried the token.
    expect(graph.requests.filter((r) => r.authorization !== `Bearer ${TOKEN}`)).toEqual([]);

    const res = await t.request('/api/extensions/native-whatsapp/runtime/media/m-ok', {
      token: t.tokens.standard,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toMatch(/^inline/);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('the conversation detail shows each message’s media and state', async () => {
    const { t, graph } = await setup();
    // The first fetch fails and its retry waits for the test's clock: the media is still `pending` when
    // the detail is read, however fast the downloader is (it runs by itself once the message is in).
    graph.addMedia('m-detail', {
      bytes: jpeg(1000),
      mime_type: 'image/jpeg',
      urlFailures: { count: 1, status: 500 },
    });
    const msg = await receive(t, 'image', 'm-detail', { caption: 'look' });
    await t.deps.media.drain();
    const list = (await (
      await t.request('/api/extensions/native-whatsapp/runtime/conversations')
    ).json()) as {
      items: { conversation_id: string }[];
    };
    const id = list.items[0]?.conversation_id as string;
    const before = (await (
      await t.request(`/api/extensions/native-whatsapp/runtime/conversations/${id}`)
    ).json()) as {
      messages: { wamid: string; media: { state: string; url: string | null } | null }[];
    };
    expect(before.messages.find((m) => m.wamid === msg)?.media).toMatchObject({
      state: 'pending',
      url: null,
    });
    t.clock.advance(60_000);
    await t.deps.media.drain();
    const after = (await (
      await t.request(`/api/extensions/native-whatsapp/runtime/conversations/${id}`)
    ).json()) as typeof before;
    expect(after.messages.find((m) => m.wamid === msg)?.media).toMatchObject({
      state: 'stored',
      url: '/api/extensions/native-whatsapp/runtime/media/m-detail',
    });
  });

  const failures: {
    name: string;
    type?: string;
    media: FakeMedia;
    error: string;
    config?: Record<string, unknown>;
  }[] = [
    {
      name: 'declared too large',
      media: { bytes: jpeg(10), mime_type: 'image/jpeg', file_size: 6 * 1024 * 1024 },
      error: 'too_large',
    },
    {
      name: 'too large while streaming (size not announced)',
      media: {
        bytes: jpeg(6 * 1024 * 1024),
        mime_type: 'image/jpeg',
        file_size: 100,
        noLength: true,
        chunkBytes: 64 * 1024,
      },
      error: 'too_large',
    },
    {
      name: 'a type not allowed',
      media: { bytes: jpeg(10), mime_type: 'text/html' },
      error: 'type_not_allowed',
    },
    {
      name: 'a wrong sha256',
      media: { bytes: jpeg(10), mime_type: 'image/jpeg', sha256: 'ab'.repeat(32) },
      error: 'sha256_mismatch',
    },
    {
      name: 'an unknown media id (lookup 404)',
      media: { bytes: jpeg(10), mime_type: 'image/jpeg', lookupStatus: 404 },
      error: 'not_found',
    },
    {
      name: 'a url that redirects to another host',
      media: { bytes: jpeg(10), mime_type: 'image/jpeg', redirectTo: 'http://localhost:1/elsewhere' },
      error: 'redirect_other_host',
    },
    {
      name: 'a url answering 500 every time',
      media: { bytes: jpeg(10), mime_type: 'image/jpeg', urlFailures: { count: 99, status: 500 } },
      error: 'http_error',
      config: { max_attempts: 1 },
    },
    {
      name: 'a url that stays expired (404 after a fresh lookup)',
      media: { bytes: jpeg(10), mime_type: 'image/jpeg', urlFailures: { count: 99, status: 404 } },
      error: 'url_expired',
      config: { max_attempts: 1 },
    },
    {
      name: 'a download slower than media.download_timeout',
      media: { bytes: jpeg(50_000), mime_type: 'image/jpeg', chunkBytes: 1000, chunkDelayMs: 100 },
      error: 'timeout',
      config: { max_attempts: 1, download_timeout: '1s' },
    },
  ];

  for (const f of failures) {
    it(`${f.name}: failed (${f.error}) with a reason, nothing left on disk, the next one stored`, async () => {
      const { t, graph } = await setup(f.config);
      graph.addMedia('m-bad', f.media);
      graph.addMedia('m-next', { bytes: jpeg(100, 7), mime_type: 'image/jpeg' });
      await receive(t, f.type ?? 'image', 'm-bad');
      await receive(t, 'image', 'm-next');
      await t.deps.media.drain();
      const bad = await stateOf(t, 'm-bad');
      expect(bad).toMatchObject({ state: 'failed', error: f.error });
      expect(bad?.reason).toBeTruthy();
      expect(bad?.content_sha256).toBeNull();
      expect((await stateOf(t, 'm-next'))?.state).toBe('stored');
      // Only the good one is on disk: no temporary file, no partial file.
      expect(filesUnder(mediaDir(t))).toEqual([
        t.deps.media.storage().filePath(createHash('sha256').update(jpeg(100, 7)).digest('hex')),
      ]);
      const res = await t.request('/api/extensions/native-whatsapp/runtime/media/m-bad');
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { details: { state: string } } }).error.details.state).toBe(
        'failed',
      );
    });
  }

  it('an expired url (404) is resolved again and the fresh url fetched', async () => {
    const { t, graph } = await setup();
    graph.addMedia('m-exp', {
      bytes: jpeg(500),
      mime_type: 'image/jpeg',
      urlFailures: { count: 1, status: 404 },
    });
    await receive(t, 'image', 'm-exp');
    await t.deps.media.drain();
    expect((await stateOf(t, 'm-exp'))?.state).toBe('stored');
    expect(graph.mediaFetches.get('m-exp')).toBe(2);
  });

  it('a 500 is retried with backoff and then stored; the row stays pending meanwhile', async () => {
    const { t, graph } = await setup();
    graph.addMedia('m-retry', {
      bytes: jpeg(500),
      mime_type: 'image/jpeg',
      urlFailures: { count: 1, status: 500 },
    });
    await receive(t, 'image', 'm-retry');
    await t.deps.media.drain();
    expect(await stateOf(t, 'm-retry')).toMatchObject({ state: 'pending', error: 'http_error', attempts: 1 });
    t.clock.advance(60_000);
    await t.deps.media.drain();
    expect(await stateOf(t, 'm-retry')).toMatchObject({ state: 'stored', error: null, attempts: 2 });
  });

  it('the webhook’s base64 sha256 is checked when the lookup gives none', async () => {
    const { t, graph } = await setup();
    const bytes = jpeg(300, 3);
    graph.addMedia('m-b64', { bytes, mime_type: 'image/jpeg', sha256: null });
    graph.addMedia('m-b64-bad', { bytes, mime_type: 'image/jpeg', sha256: null });
    await receive(t, 'image', 'm-b64', { sha256: createHash('sha256').update(bytes).digest('base64') });
    await receive(t, 'image', 'm-b64-bad', { sha256: createHash('sha256').update('other').digest('base64') });
    await t.deps.media.drain();
    expect((await stateOf(t, 'm-b64'))?.state).toBe('stored');
    expect((await stateOf(t, 'm-b64-bad'))?.error).toBe('sha256_mismatch');
  });

  it('without the bearer token the fake serves nothing (and the daemon with a wrong one gets nothing)', async () => {
    const { t, graph } = await setup();
    graph.addMedia('m-auth', { bytes: jpeg(10), mime_type: 'image/jpeg' });
    const lookup = await fetch(`${graph.url}/v24.0/m-auth`);
    expect(lookup.status).toBe(401);
    graph.requireToken('EAAanother_token_0123456789');
    await receive(t, 'image', 'm-auth');
    await t.deps.media.drain();
    expect(await stateOf(t, 'm-auth')).toMatchObject({ state: 'pending', error: 'unauthorized' });
  });

  it('over media.max_total_bytes the oldest stored media are evicted (expired) and their files removed', async () => {
    const { t, graph } = await setup({ max_total_bytes: 1024 * 1024 });
    const sizes = [400_000, 400_000, 400_000];
    for (const [i, n] of sizes.entries()) {
      graph.addMedia(`m-q${i}`, { bytes: jpeg(n, i + 1), mime_type: 'image/jpeg' });
      await receive(t, 'image', `m-q${i}`);
      await t.deps.media.drain();
      t.clock.advance(1000);
    }
    expect(await stateOf(t, 'm-q0')).toMatchObject({ state: 'expired', error: 'evicted' });
    expect((await stateOf(t, 'm-q1'))?.state).toBe('stored');
    expect((await stateOf(t, 'm-q2'))?.state).toBe('stored');
    const first = createHash('sha256').update(jpeg(400_000, 1)).digest('hex');
    expect(existsSync(t.deps.media.storage().filePath(first))).toBe(false);
    expect(filesUnder(mediaDir(t))).toHaveLength(2);
    expect((await t.request('/api/extensions/native-whatsapp/runtime/media/m-q0')).status).toBe(409);
  });

  it('stored media older than media.retention expire', async () => {
    const { t, graph } = await setup({ retention: '2d' });
    graph.addMedia('m-old', { bytes: jpeg(100), mime_type: 'image/jpeg' });
    await receive(t, 'image', 'm-old');
    await t.deps.media.drain();
    t.clock.advance(3 * 86_400_000);
    expect(await t.deps.media.sweepRetention()).toBe(1);
    expect(await stateOf(t, 'm-old')).toMatchObject({ state: 'expired', error: 'retention' });
    expect(filesUnder(mediaDir(t))).toEqual([]);
  });

  it('a wake while the downloader starts does not download one media twice', async () => {
    const { t, graph } = await setup();
    graph.addMedia('m-start', {
      bytes: jpeg(40_000),
      mime_type: 'image/jpeg',
      chunkBytes: 10_000,
      chunkDelayMs: 20,
    });
    await t.deps.media.stop(Date.now());
    await receive(t, 'image', 'm-start');
    // As in the daemon: the inbox processor runs already and wakes the downloader while it starts.
    const starting = t.deps.media.start();
    t.deps.media.wake();
    await starting;
    await t.deps.media.drain();
    expect((await stateOf(t, 'm-start'))?.state).toBe('stored');
    expect(graph.mediaFetches.get('m-start')).toBe(1);
    expect(filesUnder(path.join(mediaDir(t), 'tmp'))).toEqual([]);
  });

  it('a redelivered message makes no second download row', async () => {
    const { t, graph } = await setup();
    graph.addMedia('m-dup', { bytes: jpeg(10), mime_type: 'image/jpeg' });
    await receive(t, 'image', 'm-dup');
    await receive(t, 'image', 'm-dup');
    await t.deps.media.drain();
    expect(await mediaRepo.countByState(t.deps.db)).toMatchObject({ stored: 1, pending: 0 });
  });
});

// A really full disk: a 256 KiB tmpfs as media.dir (needs the right to mount, as root in CI's
// container; skipped elsewhere).
const canMount = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(path.join(tmpdir(), 'nwa-mount-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

describe.skipIf(!canMount)('a full disk', () => {
  it('failed (disk_full), no partial file, and the next small one is stored', async () => {
    const mnt = mkdtempSync(path.join(tmpdir(), 'nwa-full-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status).toBe(0);
    try {
      const { t, graph } = await setup({ dir: mnt, max_attempts: 1, concurrency: 1 });
      graph.addMedia('m-huge', { bytes: jpeg(1024 * 1024), mime_type: 'image/jpeg', chunkBytes: 64 * 1024 });
      graph.addMedia('m-small', { bytes: jpeg(1000, 9), mime_type: 'image/jpeg' });
      await receive(t, 'image', 'm-huge');
      await receive(t, 'image', 'm-small');
      await t.deps.media.drain();
      expect(await stateOf(t, 'm-huge')).toMatchObject({ state: 'failed', error: 'disk_full' });
      expect((await stateOf(t, 'm-small'))?.state).toBe('stored');
      expect(filesUnder(mnt)).toHaveLength(1);
      await t.deps.media.stop(Date.now());
    } finally {
      spawnSync('umount', ['-l', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});

describe('media route', () => {
  it('audio is an attachment and honours one byte range (206), 416 outside it', async () => {
    const { t, graph } = await setup();
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    graph.addMedia('m-voice', { bytes, mime_type: 'audio/ogg; codecs=opus' });
    await receive(t, 'audio', 'm-voice', { mime_type: 'audio/ogg; codecs=opus', voice: true });
    await t.deps.media.drain();
    const path0 = '/api/extensions/native-whatsapp/runtime/media/m-voice';
    const whole = await t.request(path0);
    expect(whole.headers.get('content-type')).toBe('audio/ogg');
    expect(whole.headers.get('content-disposition')).toMatch(/^attachment; filename="m-voice\.ogg"/);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const part = await t.request(path0, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
    const tail = await t.request(path0, { headers: { range: 'bytes=-5' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(995))).toBe(true);
    const bad = await t.request(path0, { headers: { range: 'bytes=2000-' } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe('bytes */1000');
  });

  it('404 for an unknown media id, 401 without a token', async () => {
    const { t } = await setup();
    expect((await t.request('/api/extensions/native-whatsapp/runtime/media/nope')).status).toBe(404);
    expect(
      (await t.request('/api/extensions/native-whatsapp/runtime/media/nope', { token: null })).status,
    ).toBe(401);
  });
});

describe('the sandbox (no access token)', () => {
  it('media from a delivery go through the same download path and are stored as placeholders', async () => {
    t = await createTestApp();
    await receive(t, 'image', 'sim-image-1');
    await receive(t, 'audio', 'sim-voice-1', { mime_type: 'audio/ogg' });
    await receive(t, 'video', 'sim-video-1', { mime_type: 'video/mp4' });
    await receive(t, 'document', 'sim-doc-1', { mime_type: 'application/pdf' });
    // An id as Meta makes them, with no hint of its type: the message's type picks the file.
    await receive(t, 'audio', '8174829754160001', { mime_type: 'audio/ogg; codecs=opus' });
    await t.deps.media.drain();
    expect(await stateOf(t, '8174829754160001')).toMatchObject({ state: 'stored', mime_type: 'audio/ogg' });
    expect(await stateOf(t, 'sim-image-1')).toMatchObject({ state: 'stored', mime_type: 'image/png' });
    expect(await stateOf(t, 'sim-voice-1')).toMatchObject({ state: 'stored', mime_type: 'audio/ogg' });
    expect(await stateOf(t, 'sim-video-1')).toMatchObject({ state: 'stored', mime_type: 'video/mp4' });
    expect(await stateOf(t, 'sim-doc-1')).toMatchObject({ state: 'stored', mime_type: 'application/pdf' });
    const app = t;
    const magic = async (id: string, n: number) =>
      Buffer.from(
        await (await app.request(`/api/extensions/native-whatsapp/runtime/media/${id}`)).arrayBuffer(),
      )
        .subarray(0, n)
        .toString('latin1');
    expect(await magic('sim-voice-1', 4)).toBe('OggS');
    expect((await magic('sim-video-1', 8)).slice(4)).toBe('ftyp');
    expect(await magic('sim-doc-1', 5)).toBe('%PDF-');
    const res = await t.request('/api/extensions/native-whatsapp/runtime/media/sim-image-1');
    expect(res.status).toBe(200);
    expect(
      Buffer.from(await res.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });
});
