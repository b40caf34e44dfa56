/**
 * An open-loop load at a fixed rate, for latency: requests are sent on a schedule (one every
 * 1 / rate s, whatever the answers), each request's latency counted from the time it was due, not the
 * time it went out (no coordinated omission: a server that stalls is charged for every request that
 * waited). autocannon cannot do this: its `overallRate` lets each connection send its quota at the
 * start of every second, as fast as it can, so its latencies are those of a burst.
 *
 * The sender polls the clock between I/O turns (setImmediate), so it keeps one CPU busy: run it on a
 * CPU the server is not pinned to (bench/support.ts pins the server to CPU 0). Requests go out over
 * `connections` kept-alive sockets, each to the socket with the fewest waiting; when every socket has
 * one in flight, the request is pipelined behind (HTTP/1.1 answers in order). Answers are read by
 * their Content-Length (the hello apps answer with one). Traffic goes to 127.0.0.1 only; the run
 * stops by itself after `seconds`, and waits at most 2 s more for the last answers.
 */
import { connect, type Socket } from 'node:net';

/** What a paced run measured. */
export interface PacedResult {
  sent: number;
  answered: number;
  /** Latency of every answered request (ms from when it was due). */
  latencies: number[];
  /** Answers whose status was not 2xx. */
  non2xx: number;
}

interface Conn {
  socket: Socket;
  /** When each request in flight on it was due (performance.now ms), oldest first. */
  due: number[];
  buf: Buffer;
}

/** Sends `GET path` to 127.0.0.1:`port` at `rate` requests per second for `seconds`. */
export async function pacedLoad(opts: {
  port: number;
  path: string;
  rate: number;
  seconds: number;
  connections?: number;
}): Promise<PacedResult> {
  const request = Buffer.from(`GET ${opts.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  const result: PacedResult = { sent: 0, answered: 0, latencies: [], non2xx: 0 };
  let failure: Error | null = null;
  const conns: Conn[] = await Promise.all(
    Array.from(
      { length: opts.connections ?? 32 },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port: opts.port, noDelay: true }, () => resolve(conn));
          const conn: Conn = { socket, due: [], buf: Buffer.alloc(0) };
          socket.once('error', reject);
          socket.on('data', (chunk: Buffer) => {
            try {
              read(conn, chunk);
            } catch (err) {
              failure = err as Error;
            }
          });
        }),
    ),
  );
  for (const c of conns) c.socket.on('error', (err) => (failure ??= err));

  function read(c: Conn, chunk: Buffer): void {
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    for (;;) {
      const end = c.buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = c.buf.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!length) throw new Error(`answer without Content-Length: ${head.slice(0, 200)}`);
      const total = end + 4 + Number(length[1]);
      if (c.buf.length < total) return;
      const now = performance.now();
      const due = c.due.shift();
      if (due === undefined) throw new Error('an answer to no request');
      result.answered++;
      result.latencies.push(now - due);
      if (!/^HTTP\/1\.1 2\d\d/.test(head)) result.non2xx++;
      c.buf = c.buf.subarray(total);
    }
  }

  const interval = 1000 / opts.rate;
  const total = Math.floor(opts.rate * opts.seconds);
  const start = performance.now() + 5;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (result.sent < total && start + result.sent * interval <= now) {
        let c = conns[0]!;
        for (const x of conns) if (x.due.length < c.due.length) c = x;
        c.due.push(start + result.sent * interval);
        c.socket.write(request);
        result.sent++;
      }
      if (result.sent >= total || failure) resolve();
      else setImmediate(tick);
    };
    setImmediate(tick);
  });
  const deadline = performance.now() + 2000;
  while (result.answered < result.sent && performance.now() < deadline && !failure) {
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const c of conns) c.socket.destroy();
  if (failure) throw failure;
  return result;
}
