// Paging of the dashboard's long lists (conversations, campaigns) with the house's keyset cursors
// (http/cursor.ts). A keyset cursor only walks forward, so each page's URL also carries the trail of
// cursors that led to it: "Previous" is the trail's last cursor, "Next" the page's next_cursor. Plain
// links, so paging works without the script and with the browser's back button alike.

/** A cursor is base64url; anything else in the URL is dropped rather than refused (a stale link). */
const CURSOR = /^[A-Za-z0-9_-]{1,400}$/;
/** Trail entries kept: beyond this many pages back, "Previous" jumps towards the first page sooner. */
const MAX_TRAIL = 40;

export interface PageAt {
  /** Where this page starts (undefined: the first page). */
  cursor: string | undefined;
  /** The cursors of the pages between the first page and this one, oldest first. */
  trail: string[];
}

export function pageAt(q: Record<string, string | undefined>): PageAt {
  const cursor = q.cursor && CURSOR.test(q.cursor) ? q.cursor : undefined;
  const trail = cursor ? (q.trail ?? '').split('.').filter((c) => CURSOR.test(c)) : [];
  return { cursor, trail: trail.slice(-MAX_TRAIL) };
}

function href(path: string, params: URLSearchParams, cursor: string | undefined, trail: string[]): string {
  const q = new URLSearchParams(params);
  q.delete('cursor');
  q.delete('trail');
  if (cursor) q.set('cursor', cursor);
  if (cursor && trail.length > 0) q.set('trail', trail.join('.'));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Previous / next links under a list; nothing when the list fits on one page. */
export function Pager(p: {
  path: string;
  /** The page's query (filters), kept on every link. */
  params: URLSearchParams;
  at: PageAt;
  next_cursor: string | null;
  label: string;
}) {
  const { cursor, trail } = p.at;
  if (!cursor && !p.next_cursor) return null;
  const number = cursor ? trail.length + 2 : 1;
  const previous = cursor ? href(p.path, p.params, trail.at(-1), trail.slice(0, -1)) : undefined;
  const next = p.next_cursor
    ? href(p.path, p.params, p.next_cursor, cursor ? [...trail, cursor] : [])
    : undefined;
  return (
    <nav class="pager" aria-label={p.label}>
      {previous ? (
        <a class="button secondary" href={previous} rel="prev">
          ← Previous
        </a>
      ) : (
        <span />
      )}
      <span class="muted">Page {number}</span>
      {next ? (
        <a class="button secondary" href={next} rel="next">
          Next →
        </a>
      ) : (
        <span />
      )}
    </nav>
  );
}
