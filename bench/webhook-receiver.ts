/**
 * The local webhook receiver for `npm run bench -- webhooks`, in its own process so it does not
 * share the gateway's event loop. Answers 200 to every POST. With `log`, prints "<webhook-id>
 * <arrival ms>" per request (for committed → delivered latency). Prints {"port"} when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const log = process.argv[2] === 'log';
process.on('SIGINT', () => process.exit(0));
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (log) process.stdout.write(`${req.headers['webhook-id'] ?? '-'} ${Date.now()}\n`);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
