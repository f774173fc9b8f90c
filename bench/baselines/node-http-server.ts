// Baseline 1, the ceiling: a bare node:http server that reads the body and answers 200. Nothing
// verified, nothing stored; no webhook endpoint can be faster on this machine.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);

createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"received"}');
  });
}).listen(port, '127.0.0.1');
