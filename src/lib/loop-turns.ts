// Long synchronous-looking work (one delivery of many messages: every query is a microtask on the one
// SQLite connection) never gives the event loop a turn by itself. Called between its items, this
// yields one turn once the work has held the loop for a slice, so /healthz and ingress keep answering
// (SPEC §9a: a 1,000-message delivery must not block the loop for more than 50 ms at a time).

/** A function to await between items: a loop turn whenever `sliceMs` have passed since the last. */
export function loopTurnsEvery(sliceMs: number): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}
