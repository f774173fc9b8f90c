// Preloaded into the daemon by bench/hostile/probe.ts (`node --import`): every time the event loop
// comes back more than 30 ms late, one line on stderr with the stall's start and end (hrtime µs, the
// CPU profile's clock) and the CPU time the process used in it: a stall with as much CPU as wall time
// is the daemon's own synchronous work, one with little CPU is the box descheduling it.
const EVERY_MS = 2;
let last = process.hrtime.bigint();
let lastCpu = process.cpuUsage();
setInterval(() => {
  const now = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const gapMs = Number(now - last) / 1e6 - EVERY_MS;
  if (gapMs > 30) {
    const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    process.stderr.write(
      `LOOPWATCH ${JSON.stringify({ from: Number(last / 1000n), to: Number(now / 1000n), wall: gapMs, cpu: cpuMs })}\n`,
    );
  }
  last = now;
  lastCpu = cpu;
}, EVERY_MS).unref();

// And for /healthz: when its connection was accepted, when its request was parsed, when it was answered.
import http from 'node:http';

const emit = http.Server.prototype.emit;
const ACCEPTED = Symbol('accepted');
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'connection') args[0][ACCEPTED] = Date.now();
  if (event === 'request' && args[0].url === '/healthz') {
    const req = args[0];
    const res = args[1];
    const at = Date.now();
    const accepted = req.socket[ACCEPTED];
    res.once('finish', () => {
      const done = Date.now();
      process.stderr.write(
        `LOOPHTTP ${JSON.stringify({ accepted, at, done, accept_to_request: at - accepted, handle: done - at, first: req.socket._nwaSeen === undefined })}\n`,
      );
      req.socket._nwaSeen = true;
    });
  }
  return emit.call(this, event, ...args);
};

// The kernel's accept queue of the daemon's listening socket (rx_queue of its LISTEN row in
// /proc/net/tcp) against the last connection node accepted: a queue that stays full while node accepts
// nothing means the loop is not getting to the listening socket.
import { readFileSync } from 'node:fs';

let lastAccept = Date.now();
let accepts = 0;
const emit2 = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'connection') {
    lastAccept = Date.now();
    accepts++;
    if (!this._nwaPort) this._nwaPort = this.address()?.port;
    listenPort = this._nwaPort;
  }
  return emit2.call(this, event, ...args);
};
let listenPort;
setInterval(() => {
  if (!listenPort) return;
  const hex = listenPort.toString(16).toUpperCase().padStart(4, '0');
  const row = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .find((l) => l.includes(`:${hex} 00000000:0000 0A`));
  if (!row) return;
  const queue = Number.parseInt(row.trim().split(/\s+/)[4].split(':')[1], 16);
  if (queue > 0) {
    process.stderr.write(
      `LOOPACCEPT ${JSON.stringify({ at: Date.now(), queue, since_accept: Date.now() - lastAccept, accepts })}\n`,
    );
  }
}, 100).unref();
