/** Small helpers for instrumentation tests: listen on loopback, fire many requests. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 on a free port; returns the base URL. */
export async function listenLocal(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes a server and its idle keep-alive connections. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** Requests every path (GET unless given), `concurrency` at a time; returns the status codes in order. */
export async function requestAll(
  base: string,
  paths: readonly string[],
  opts: { concurrency?: number; method?: string } = {},
): Promise<number[]> {
  const statuses: number[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      const res = await fetch(`${base}${paths[i]}`, { method: opts.method ?? 'GET' });
      await res.arrayBuffer();
      statuses[i] = res.status;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 32 }, worker));
  return statuses;
}
