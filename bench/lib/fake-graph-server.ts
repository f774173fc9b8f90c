// The fake Cloud API (test/helpers/fake-graph-api.ts) in its own process, so that the times it
// records are not skewed by the daemon's event loop. Prints "ready <url>"; on a "dump" line on stdin
// prints the arrival times (ms, sub-ms precision) of every request as one JSON line.
import { createInterface } from 'node:readline';
import { startFakeGraphApi } from '../../test/helpers/fake-graph-api.js';

const graph = await startFakeGraphApi();
process.stdout.write(`ready ${graph.url}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'dump')
    process.stdout.write(`${JSON.stringify(graph.requests.map((r) => r.receivedAt))}\n`);
  if (line.trim() === 'exit') break;
}
await graph.close();
// stdin stays referenced after the loop ends: leave explicitly.
process.exit(0);
