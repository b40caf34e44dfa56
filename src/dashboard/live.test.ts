import assert from 'node:assert/strict';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { waitFor } from '../../test/support/wait.js';
import { FakeClock, flushAsync } from '../core/clock.js';
import { LiveHub } from './live.js';

/** A real HTTP server whose every request becomes an event stream of `hub`. */
async function serve(hub: LiveHub): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    if (!hub.attach(res, { 'x-test': '1' })) {
      res.writeHead(503);
      res.end('full');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** Opens a stream and collects what arrives. */
function open(url: string): Promise<{ res: IncomingMessage; text: () => string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
      });
      res.on('error', () => {});
      resolve({ res, text: () => buf, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

describe('live event hub', () => {
  test('a new client gets the full digest, then only the sections that change, ticks and heartbeats', async () => {
    const clock = new FakeClock();
    let digest = { banner: 'a', alerts: 'x' };
    const hub = new LiveHub({
      clock,
      digest: async () => digest,
      pollMs: 1000,
      heartbeatMs: 5000,
      tickMs: 10_000,
    });
    const { url, server } = await serve(hub);
    try {
      const c = await open(url);
      assert.equal(c.res.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(c.res.headers['x-test'], '1');
      await waitFor(() => c.text().includes('event: state'), { what: 'state' });
      assert.match(c.text(), /^retry: 3000\n/);
      assert.match(c.text(), /event: state\ndata: \{"digest":\{"banner":"a","alerts":"x"\}/);
      digest = { banner: 'a', alerts: 'y' };
      await clock.advance(1000);
      await waitFor(() => c.text().includes('event: change'), { what: 'change' });
      assert.match(c.text(), /event: change\ndata: \{"sections":\["alerts"\]/);
      const changes = () => c.text().split('event: change').length - 1;
      await clock.advance(1000);
      await flushAsync();
      assert.equal(changes(), 1, 'nothing changed: nothing sent');
      await clock.advance(4000);
      await waitFor(() => c.text().includes(': ping'), { what: 'heartbeat' });
      await clock.advance(5000);
      await waitFor(() => c.text().includes('event: tick'), { what: 'tick' });
      c.close();
      await waitFor(() => hub.clients === 0, { what: 'client gone' });
    } finally {
      await hub.close();
      server.close();
    }
  });

  test('clients beyond the limit are refused; notify recomputes at once; close ends every stream', async () => {
    const clock = new FakeClock();
    let n = 0;
    const hub = new LiveHub({
      clock,
      digest: async () => ({ alerts: String(n) }),
      pollMs: 60_000,
      maxClients: 2,
    });
    const { url, server } = await serve(hub);
    try {
      const a = await open(url);
      const b = await open(url);
      const c = await open(url);
      assert.equal(a.res.statusCode, 200);
      assert.equal(b.res.statusCode, 200);
      assert.equal(c.res.statusCode, 503);
      assert.equal(hub.clients, 2);
      await waitFor(() => a.text().includes('event: state') && b.text().includes('event: state'), {
        what: 'state',
      });
      n = 1;
      hub.notify();
      await waitFor(() => a.text().includes('event: change') && b.text().includes('event: change'), {
        what: 'change after notify',
      });
      const ended = Promise.all([a, b].map((x) => new Promise((r) => x.res.on('end', r))));
      await hub.close();
      await ended;
      assert.equal(hub.clients, 0);
      assert.equal(hub.attach({} as never), false, 'closed: nobody attaches');
    } finally {
      server.close();
    }
  });
});
