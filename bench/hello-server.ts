/**
 * A hello-world server for bench/overhead.ts, run as a child process:
 * `node --import tsx bench/hello-server.ts <http|express|fastify> <bare|prodmon|promclient> [guess]`.
 * Prints `PORT <n>` once listening; answers the IPC message `cpu` with its CPU usage. The apps are
 * those of bench/hello-apps.ts.
 */
import type { AddressInfo } from 'node:net';
import { helloServer } from './hello-apps.js';

const [framework = 'http', variant = 'bare', route] = process.argv.slice(2);

async function main(): Promise<string> {
  const server = await helloServer(framework, variant, { guess: route === 'guess' });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return String((server.address() as AddressInfo).port);
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
// The parent asks for this process's CPU time around each run (CPU per request resists noisy neighbours).
process.on('message', (m) => {
  if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});

main().then(
  (port) => process.stdout.write(`PORT ${port}\n`),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
