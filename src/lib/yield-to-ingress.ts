// Background work (inbox processing, responder jobs) runs on the same event loop and the same SQLite
// connection as webhook ingress. Between units of work it steps aside: it lets pending I/O run and
// waits, up to a bound, for ingress to be quiet, so a backlog never holds up the 200s Meta is waiting for.

/** Resolves when `quiet` does or after `ms`, whichever comes first. */
export function quietOrTimeout(quiet: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    quiet,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One turn of the event loop, then (if given) a bounded wait for ingress to be quiet. */
export async function yieldToIngress(
  ingressIdle: (() => Promise<void>) | undefined,
  maxWaitMs: number,
): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (ingressIdle) await quietOrTimeout(ingressIdle(), maxWaitMs);
}
