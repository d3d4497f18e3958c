// Free loopback ports and waits on observable state (never fixed sleeps).
import { type AddressInfo, createServer, type Server } from 'node:net';

/** Ports the OS says are free right now on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes. */
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

/** Fast failure detection, as in the core cluster tests. */
export const FAST_CLUSTER = {
  pingInterval: 50,
  pingTimeout: 200,
  failureTimeout: 600,
  discoveryInterval: 200,
} as const;

/**
 * Failure detection too slow to explain a prompt removal: with it, a node that disappears from
 * the others' member lists within a second must have left gracefully.
 */
export const SLOW_FAILURE_DETECTION = { ...FAST_CLUSTER, failureTimeout: 20_000 } as const;
