// Preloaded into the media benchmark's daemon (NODE_OPTIONS=--import=...) for its streaming runs: a
// full GC every FORCED_GC_MS (100 ms unless set). V8 otherwise lets garbage build up between its own
// collections, body chunks among it, and more of it the more bytes arrive per second; with a full GC
// this often the daemon's RSS follows what is still referenced, so a daemon holding images whole shows
// them however V8 would have paced its collections. Plain JavaScript: the daemon runs dist/ under node
// without tsx.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

v8.setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc');
setInterval(() => gc(), Number(process.env.FORCED_GC_MS) || 100).unref();
