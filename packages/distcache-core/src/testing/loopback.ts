import { type AddressInfo, createServer, type Server } from 'node:net';

/**
 * Ports the OS says are free right now on `host` (127.0.0.1 by default), for cluster tests that
 * need to know every node's peer port before starting them (static discovery).
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, host, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * Polls `condition` every 10 ms until it holds, or rejects after `timeoutMs` naming `what`. For
 * waiting on observable state (members joined, a load done), never for timing assertions.
 *
 * @example
 * await waitUntil(() => engines.every((e) => e.stats().members === 3), 5_000, 'all members');
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
