// A page that only says something: not found, refused, session ended.
import { BASE, type Viewer } from '../view.js';
import { Document, Layout } from './layout.js';

export function MessagePage(p: { title: string; text: string; viewer?: Viewer | undefined }) {
  if (p.viewer) {
    return (
      <Layout title={p.title} section="none" viewer={p.viewer}>
        <p>{p.text}</p>
        <p>
          <a href={BASE}>Back to the overview</a>
        </p>
      </Layout>
    );
  }
  return (
    <Document title={p.title}>
      <main id="main" class="login">
        <h1>{p.title}</h1>
        <p>{p.text}</p>
        <p>
          <a href={`${BASE}/login`}>Sign in</a>
        </p>
      </main>
    </Document>
  );
}
