// The page frame: skip link, header with the navigation (root pages only for root), the signed-in
// tier and sign-out, a notice or error line after an action, and the page itself.
import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { ASSET_VERSION } from '../assets/version.js';
import { BASE, type Viewer } from '../view.js';

export type Section = 'overview' | 'conversations' | 'campaigns' | 'settings' | 'events' | 'none';

const NAV: { id: Section; href: string; label: string; root?: boolean }[] = [
  { id: 'overview', href: BASE, label: 'Overview' },
  { id: 'conversations', href: `${BASE}/conversations`, label: 'Conversations' },
  { id: 'campaigns', href: `${BASE}/campaigns`, label: 'Campaigns' },
  { id: 'settings', href: `${BASE}/settings`, label: 'Settings' },
  { id: 'events', href: `${BASE}/events`, label: 'Events', root: true },
];

export function Document(p: { title: string; children: Child }) {
  // Without a doctype the browser renders in quirks mode (forms get margins, sizes differ).
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${p.title} · native-whatsapp`}</title>
          <link rel="stylesheet" href={`${BASE}/assets/app.css?v=${ASSET_VERSION}`} />
          <script src={`${BASE}/assets/app.js?v=${ASSET_VERSION}`} defer />
        </head>
        <body>{p.children}</body>
      </html>
    </>
  );
}

export function Layout(p: {
  title: string;
  section: Section;
  viewer: Viewer;
  notice?: string | undefined;
  error?: string | undefined;
  children: Child;
}) {
  return (
    <Document title={p.title}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={BASE}>
          native-whatsapp
        </a>
        <nav aria-label="Dashboard">
          <ul>
            {NAV.filter((n) => !n.root || p.viewer.tier === 'root').map((n) => (
              <li>
                <a href={n.href} aria-current={n.id === p.section ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <form class="signout" method="post" action={`${BASE}/logout`}>
          <input type="hidden" name="_csrf" value={p.viewer.csrf} />
          <span class={`tier tier-${p.viewer.tier}`} title={`signed in with ${p.viewer.token_name}`}>
            {p.viewer.tier}
          </span>
          <button type="submit" class="link">
            Sign out
          </button>
        </form>
      </header>
      <main id="main" tabindex={-1}>
        <h1>{p.title}</h1>
        <Flash notice={p.notice} error={p.error} />
        {p.children}
      </main>
    </Document>
  );
}

/** The one-time notice or error after an action (or a sign-in), announced to screen readers. */
export function Flash(p: { notice?: string | undefined; error?: string | undefined; errorId?: string }) {
  return (
    <>
      {p.notice ? (
        <p class="flash ok" role="status">
          {p.notice}
        </p>
      ) : null}
      {p.error ? (
        <p class="flash err" role="alert" id={p.errorId}>
          {p.error}
        </p>
      ) : null}
    </>
  );
}

/** A hidden CSRF field for a state-changing form. */
export function Csrf(p: { viewer: Viewer }) {
  return <input type="hidden" name="_csrf" value={p.viewer.csrf} />;
}

/** What to do next when there is nothing to show yet. */
export function Empty(p: { title: string; children: Child }) {
  return (
    <section class="empty" aria-label={p.title}>
      <h2>{p.title}</h2>
      {p.children}
    </section>
  );
}

export function GettingStarted() {
  return (
    <ol class="steps">
      <li>
        Create an agent that owns your WhatsApp number:{' '}
        <code>POST /api/agents {'{"name": "Support", "phone_number_id": "…"}'}</code> (root token).
      </li>
      <li>
        Install the extension on it: <code>POST /api/marketplace/extensions/install</code> with{' '}
        <code>{'{"offerId": 1, "agentUuid": "…", "installMode": "purchase"}'}</code>.
      </li>
      <li>
        No Meta account yet? Run <code>native-whatsapp simulate --scenario demo</code> and watch conversations
        arrive here.
      </li>
    </ol>
  );
}
