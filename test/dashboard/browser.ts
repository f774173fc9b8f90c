// Debian's Chromium driven by playwright-core, as SPEC §13's browser tests use it: headless, no sandbox,
// no GPU, no background networking, a fresh profile per launch. A developer box without Chromium skips.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
// CI installs Chromium (.ci/run) and must run these; a developer box without it skips them.
export const RUN_BROWSER = existsSync(CHROMIUM) || process.env.CI !== undefined;

export async function launchBrowser(dir: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    viewport: { width: 1280, height: 860 },
  });
  return { context, page: context.pages()[0] ?? (await context.newPage()) };
}

export async function signInBrowser(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/dashboard`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/dashboard`);
}
