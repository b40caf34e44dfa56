/**
 * One side of bench/overhead-instructions.ts: builds a hello app of bench/hello-apps.ts and sends it
 * `GET /hello/42` in process, through in-memory sockets (50 keep-alive connections, one request in
 * flight on each; no network, no load generator), first `warm` requests, then `n` more; prodmon's
 * engine has its store but no timers (see bench/overhead-instructions.ts). Run bundled,
 * under valgrind:
 * `node --single-threaded overhead-driver.mjs <http|express|fastify> <bare|prodmon|promclient> <n> <warm>`.
 * It prints the CPU time per request of the `n` requests (bench/overhead-cpu.ts runs it without valgrind).
 */
import type { Server } from 'node:http';
import { Duplex } from 'node:stream';
import { BODY, helloServer } from './hello-apps.js';

const REQUEST = Buffer.from('GET /hello/42 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');

/** Sends `total` requests over `connections` in-memory sockets; resolves when all are answered. */
async function drive(server: Server, total: number, connections = 50): Promise<void> {
  let sent = 0;
  let answered = 0;
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  const sockets: Duplex[] = [];
  for (let c = 0; c < connections; c++) {
    const socket: Duplex = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, done) {
        // one response per body seen (headers and body may come in one write or two)
        for (let i = chunk.indexOf(BODY); i !== -1; i = chunk.indexOf(BODY, i + 1)) {
          answered++;
          if (sent < total) {
            sent++;
            setImmediate(() => socket.push(REQUEST));
          } else if (answered === total) resolve();
        }
        done();
      },
    });
    const noop = () => socket;
    Object.assign(socket, {
      remoteAddress: '127.0.0.1',
      remotePort: 10_000 + c,
      setTimeout: noop,
      setNoDelay: noop,
      setKeepAlive: noop,
    });
    sockets.push(socket);
    server.emit('connection', socket);
  }
  for (const s of sockets) {
    if (sent < total) {
      sent++;
      s.push(REQUEST);
    }
  }
  await promise;
  for (const s of sockets) s.destroy();
}

const [framework = 'express', variant = 'bare', n = '1000', warm = '3000'] = process.argv.slice(2);
// No engine timers: under valgrind they would fire ~50x as often per request as they really do.
const server = await helloServer(framework, variant, {
  loops: false,
  guess: process.env.BENCH_GUESS === '1',
});
await drive(server, Number(warm));
const cpu0 = process.cpuUsage();
await drive(server, Number(n));
const cpu = process.cpuUsage(cpu0);
// bench/overhead-cpu.ts reads the CPU time of the n requests (valgrind's count ignores it)
process.stdout.write(
  `${JSON.stringify({ cpuNsPerRequest: ((cpu.user + cpu.system) * 1000) / Number(n) })}\n`,
);
process.exit(0);
