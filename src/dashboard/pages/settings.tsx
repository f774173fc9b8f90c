// Settings: the effective configuration (credentials redacted) and, for root, its version history and
// a change form (a partial JSON document applied like PUT .../management/config). Standard reads only.
import type { ConfigVersion } from '../../extension/management-config.js';
import { when } from '../format.js';
import { BASE, type Viewer } from '../view.js';
import { Csrf, Layout } from './layout.js';
import { Table } from './table.js';

export function SettingsPage(p: {
  viewer: Viewer;
  config: { version: number } & Record<string, unknown>;
  versions: ConfigVersion[];
  draft?: string | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  const root = p.viewer.tier === 'root';
  return (
    <Layout title="Settings" section="settings" viewer={p.viewer} notice={p.notice} error={p.error}>
      <p class="muted">
        Effective configuration, version <strong data-config-version>{p.config.version}</strong>. Defaults,
        then <code>config/default.json</code>, the <code>CONFIG_PATH</code> file, changes stored through the
        API, and the environment. {root ? '' : 'Read-only with a standard token.'}
      </p>
      {root ? (
        <section class="card" aria-labelledby="edit-h" style="margin-bottom:1rem">
          <h2 id="edit-h">Change settings</h2>
          <form method="post" action={`${BASE}/settings`} data-root-action>
            <Csrf viewer={p.viewer} />
            <input type="hidden" name="version" value={String(p.config.version)} />
            <label for="patch">Partial document (JSON) — only the keys you change</label>
            <textarea id="patch" name="patch" rows={6} required spellcheck={false}>
              {p.draft ?? '{\n  "quiet_hours": null\n}'}
            </textarea>
            <p class="muted">Validated whole and stored as a new version; a stale version is refused.</p>
            <button type="submit">Save as version {p.config.version + 1}</button>
          </form>
        </section>
      ) : null}
      <details open>
        <summary>Effective configuration</summary>
        <section aria-label="Effective configuration as JSON">
          <pre tabindex={0}>{JSON.stringify(p.config, null, 2)}</pre>
        </section>
      </details>
      {root ? (
        <section aria-labelledby="hist-h" style="margin-top:1rem">
          <h2 id="hist-h">Version history</h2>
          {p.versions.length === 0 ? (
            <p class="muted">
              Nothing stored through the API yet: the files and the environment decide everything.
            </p>
          ) : (
            <Table
              head={['Version', 'When', 'By', 'Changed']}
              rows={p.versions.map((v) => [
                v.version,
                when(v.created_at),
                <>
                  {v.actor} <span class="muted">({v.reason})</span>
                </>,
                <code>{v.changed_keys.join(', ')}</code>,
              ])}
            />
          )}
        </section>
      ) : null}
    </Layout>
  );
}
