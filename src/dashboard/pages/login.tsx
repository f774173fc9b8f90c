// Sign-in: an API token, asked once and exchanged for a session cookie.
import { BASE } from '../view.js';
import { Document, Flash } from './layout.js';

export function LoginPage(p: { error?: string | undefined; next?: string | undefined; notice?: string }) {
  return (
    <Document title="Sign in">
      <main id="main" class="login">
        <h1>Sign in to native-whatsapp</h1>
        <Flash notice={p.notice} error={p.error} errorId="login-error" />
        <form method="post" action={`${BASE}/login`}>
          {p.next ? <input type="hidden" name="next" value={p.next} /> : null}
          <div class="field">
            <label for="token">API token</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="off"
              required
              aria-describedby={p.error ? 'token-help login-error' : 'token-help'}
            />
          </div>
          <p id="token-help" class="muted">
            Create one with <code>native-whatsapp token create --tier standard</code> (or <code>root</code>).
            It is exchanged for a session cookie that lasts 12 hours; the browser never keeps the token.
          </p>
          <button type="submit">Sign in</button>
        </form>
      </main>
    </Document>
  );
}
