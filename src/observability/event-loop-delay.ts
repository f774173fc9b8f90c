// How late the event loop runs, for load shedding. One process-wide monitor (the loop is
// process-wide) that keeps the worst timer delay of each quarter second. Shedding looks at the
// best of the last two quarters: a single stall (a WAL checkpoint, start-up migrations, a big
// synchronous query) shows in one quarter and sheds nothing, while a saturated loop is late in
// every quarter and is relieved at once.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const WINDOW_MS = 250;

let started = false;
const recent: number[] = [0, 0];

function start(): void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  // Unref'd: the monitor never keeps a stopping process alive.
  setInterval(() => {
    recent.shift();
    recent.push(h.max / 1e6);
    h.reset();
  }, WINDOW_MS).unref();
}

/** Milliseconds the loop has been late in each of the last two quarter seconds (the smaller one). */
export function sustainedEventLoopDelayMs(): number {
  if (!started) {
    start();
    started = true;
  }
  return Math.min(...recent);
}
