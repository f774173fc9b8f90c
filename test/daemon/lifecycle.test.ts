// The daemon as a process: first start, secrets in logs, signals.
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { startDaemonProcess } from '../helpers/daemon-process.js';

function dbPath(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'nwa-life-')), 'data', 'native-whatsapp.db');
}

describe('daemon process', () => {
  it('creates and prints a root token once on first start, and not again', async () => {
    const DATABASE_PATH = dbPath();
    const first = await startDaemonProcess({ DATABASE_PATH });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const token = /\n\s+(nwa_[A-Za-z0-9_-]{43})\n/.exec(first.stderr())?.[1];
    expect(token).toBeDefined();
    // The token it printed works; the logs never contain it.
    expect(first.stdout()).not.toContain(token as string);

    const second = await startDaemonProcess({ DATABASE_PATH });
    const res = await fetch(`${second.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.stderr()).not.toMatch(/nwa_/);
  });

  it('keeps secrets out of every log line, even at trace level', async () => {
    const secrets = {
      WHATSAPP_APP_SECRET: 'app-secret-3f9a1c-never-log',
      WHATSAPP_VERIFY_TOKEN: 'verify-token-77aa-never-log',
      WHATSAPP_ACCESS_TOKEN: 'EAAGaccess-token-never-log',
      API_ROOT_TOKEN: 'root-token-from-env-never-log',
      API_STANDARD_TOKEN: 'standard-token-from-env-never-log',
    };
    const daemon = await startDaemonProcess({ DATABASE_PATH: dbPath(), LOG_LEVEL: 'trace', ...secrets });
    // Requests that carry secrets in headers, queries and bodies.
    await fetch(`${daemon.url}/metrics`, { headers: { authorization: `Bearer ${secrets.API_ROOT_TOKEN}` } });
    await fetch(`${daemon.url}/metrics`, {
      headers: { authorization: `Bearer ${secrets.API_STANDARD_TOKEN}` },
    });
    await fetch(`${daemon.url}/nope?token=${secrets.WHATSAPP_VERIFY_TOKEN}`);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    const output = daemon.stdout() + daemon.stderr();
    expect(output.length).toBeGreaterThan(500);
    for (const value of Object.values(secrets)) expect(output).not.toContain(value);
  });

  it('accepts the API tokens given in the environment', async () => {
    const daemon = await startDaemonProcess({
      DATABASE_PATH: dbPath(),
      API_ROOT_TOKEN: 'root-token-from-env-0123456789',
      API_STANDARD_TOKEN: 'standard-token-from-env-0123456789',
    });
    const audit = `${daemon.url}/api/extensions/native-whatsapp/management/audit`;
    expect(
      (await fetch(audit, { headers: { authorization: 'Bearer root-token-from-env-0123456789' } })).status,
    ).toBe(200);
    expect(
      (await fetch(audit, { headers: { authorization: 'Bearer standard-token-from-env-0123456789' } }))
        .status,
    ).toBe(403);
    // No token was generated: the environment provided one.
    expect(daemon.stderr()).not.toMatch(/root token was created/);
    daemon.child.kill('SIGINT');
    expect(await daemon.exited).toBe(0);
  });

  it('finishes an in-flight webhook on SIGTERM, keeps it, refuses new connections, and exits 0', async () => {
    const DATABASE_PATH = dbPath();
    const secret = 'in-flight-secret-0123456789';
    const daemon = await startDaemonProcess({ DATABASE_PATH, WHATSAPP_APP_SECRET: secret });
    const payload = JSON.stringify({ object: 'whatsapp_business_account', entry: [] });
    const signature = `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
    // A slow upload: the delivery is in flight when the signal arrives.
    const bytes = new TextEncoder().encode(payload);
    const body = new ReadableStream({
      async start(controller) {
        controller.enqueue(bytes.slice(0, 10));
        await new Promise((r) => setTimeout(r, 300));
        controller.enqueue(bytes.slice(10));
        controller.close();
      },
    });
    const inFlight = fetch(`${daemon.url}/webhooks/whatsapp`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      duplex: 'half',
    } as RequestInit);
    await new Promise((r) => setTimeout(r, 100));
    daemon.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await daemon.exited).toBe(0);
    await expect(fetch(`${daemon.url}/healthz`)).rejects.toThrow();
    expect(daemon.stdout()).toMatch(/"event":"daemon.stopped"/);
    const db = new Database(DATABASE_PATH, { readonly: true });
    expect(db.prepare('select count(*) from inbox').pluck().get()).toBe(1);
    db.close();
  });

  it('exits 1 with the address when the port is taken', async () => {
    // Two databases: on one file the second would be refused for the file (single-instance.test.ts).
    const first = await startDaemonProcess({ DATABASE_PATH: dbPath() });
    const second = await startDaemonProcess(
      { DATABASE_PATH: dbPath(), PORT: String(first.port) },
      { waitReady: false },
    );
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(new RegExp(`127.0.0.1:${first.port}.*already in use`));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  it('checks the port before it creates a database or mints a root token', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    const DATABASE_PATH = dbPath();
    const daemon = await startDaemonProcess({ DATABASE_PATH, PORT: String(port) }, { waitReady: false });
    expect(await daemon.exited).toBe(1);
    expect(daemon.stderr()).toMatch(/already in use .*PORT=/);
    expect(daemon.stderr()).not.toMatch(/root token was created|nwa_/);
    expect(existsSync(DATABASE_PATH)).toBe(false);
    await new Promise((resolve) => holder.close(resolve));
  });
});
