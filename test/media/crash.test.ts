// SPEC §12, §9: the media download queue survives kill -9. The real daemon process downloads a slow
// image from a fake Graph API (real HTTP, bearer token required) and is killed with SIGKILL mid-way,
// leaving a partial temporary file; after a restart on the same database and media folder the same
// install resumes its own interrupted download at once (no lease to wait out), stores the whole file
// and leaves nothing partial behind.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { toMetaJson } from '../../src/webhook/meta-json.js';
import { signBody } from '../../src/webhook/signature.js';
import { type DaemonProcess, killAll, startDaemonProcess, waitFor } from '../helpers/daemon-process.js';
import { type FakeGraphApi, startFakeGraphApi } from '../helpers/fake-graph-api.js';
import { deliveryOf, messagesChange } from '../webhook/deliveries.js';

const SECRET = 'media_crash_secret_0123456789';
const TOKEN = 'EAAmedia_crash_token_0123456789';

let dir: string | undefined;
let graph: FakeGraphApi | undefined;
const running: DaemonProcess[] = [];

afterEach(async () => {
  await killAll(running);
  await graph?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function filesUnder(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('kill -9 in the middle of a media download', () => {
  it('the restarted daemon resumes it and stores the whole file, nothing partial left', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nwa-media-crash-'));
    graph = await startFakeGraphApi();
    graph.requireToken(TOKEN);
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
    // 30 chunks 100 ms apart: about 3 s per download, long enough to be killed in the middle.
    graph.addMedia('m-crash', { bytes, mime_type: 'image/jpeg', chunkBytes: 10_000, chunkDelayMs: 100 });
    const mediaDir = path.join(dir, 'media');
    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ media: { dir: mediaDir } }));
    const env = {
      DATABASE_PATH: path.join(dir, 'db.sqlite'),
      CONFIG_PATH: configFile,
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_ACCESS_TOKEN: TOKEN,
      WHATSAPP_API_BASE_URL: graph.url,
      API_ROOT_TOKEN: 'root_token_for_the_media_crash_0123',
      LOG_LEVEL: 'warn',
    };
    const first = await startDaemonProcess(env);
    running.push(first);
    const body = Buffer.from(
      toMetaJson(
        deliveryOf([
          messagesChange(
            [{ wa_id: '4915100000001' }],
            [
              {
                from: '4915100000001',
                timestamp: Math.floor(Date.now() / 1000),
                type: 'image',
                extra: { image: { id: 'm-crash', mime_type: 'image/jpeg' } },
              },
            ],
          ),
        ]),
      ),
    );
    const res = await fetch(`${first.url}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SECRET) },
      body,
    });
    expect(res.status).toBe(200);

    // Killed once part of the file is on disk.
    const partial = () => filesUnder(path.join(mediaDir, 'tmp')).some((f) => readFileSync(f).length > 20_000);
    await waitFor(partial, 20_000, 10);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(filesUnder(path.join(mediaDir, 'tmp')).length).toBe(1);

    const second = await startDaemonProcess(env);
    running.push(second);
    const state = () => {
      const db = new SQLite(env.DATABASE_PATH, { readonly: true });
      try {
        return db.prepare("select state, content_sha256 from media where media_id = 'm-crash'").get() as {
          state: string;
          content_sha256: string | null;
        };
      } finally {
        db.close();
      }
    };
    // Well within the 2-minute lease: the same install takes its own interrupted work back at once.
    await waitFor(() => state().state === 'stored', 20_000, 50);
    const hex = createHash('sha256').update(bytes).digest('hex');
    expect(state().content_sha256).toBe(hex);
    expect(graph.mediaFetches.get('m-crash')).toBe(2);
    const files = filesUnder(mediaDir);
    expect(files).toEqual([path.join(mediaDir, hex.slice(0, 2), hex.slice(2, 4), hex)]);
    expect(readFileSync(files[0] as string).equals(bytes)).toBe(true);
  }, 90_000);
});
